package io.hupd.machine;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 13: a step cannot change the context it is given; a change makes a new one, leaving the old as it was. */
class UpdateContextTest {
    @Test
    void theListsOfAContextCannotBeChanged() {
        List<String> images = new ArrayList<>(List.of("oci:x:2.0.0"));
        UpdateContext c = UpdateContext.builder().images(images).sourceFailures(new ArrayList<>(List.of("a: gone")))
                .registries(new UpdateContext.Registries(new ArrayList<>(List.of("localhost:5000")), null, null, null))
                .build();
        assertThrows(UnsupportedOperationException.class, () -> c.images().add("oci:y:2.0.0"));
        assertThrows(UnsupportedOperationException.class, () -> c.sourceFailures().clear());
        assertThrows(UnsupportedOperationException.class, () -> c.registries().insecure().add("other:5000"));
        images.add("oci:y:2.0.0");
        assertEquals(List.of("oci:x:2.0.0"), c.images(), "the context keeps its own copy of what it was built from");
    }

    @Test
    void aChangeMakesANewContextAndLeavesTheOldOneAsItWas() {
        UpdateContext before = UpdateContext.builder().updateId("u1").sourceFailures(List.of("a: gone")).build();
        ContextChange change = next -> next.source("oci:x").addSourceFailure("b: refused").transitions(3);
        UpdateContext after = change.applyTo(before);
        assertNotSame(before, after);
        assertEquals("oci:x", after.source());
        assertEquals(List.of("a: gone", "b: refused"), after.sourceFailures());
        assertEquals(3, after.transitions());
        assertEquals("u1", after.updateId());
        assertNull(before.source());
        assertEquals(List.of("a: gone"), before.sourceFailures());
        assertEquals(0, before.transitions());
    }

    @Test
    void theMachineAppliesAChangeInPlaceOfItsContext() {
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        UpdateContext fresh = UpdateContext.builder().updateId("u1").targetVersion("2.0.0").build();
        m.start(fresh);
        UpdateContext started = m.context();
        m.apply(c -> c.supervisorUpdated(true));
        assertTrue(m.context().supervisorUpdated());
        assertFalse(started.supervisorUpdated(), "the context handed out before stays as it was");
        assertEquals(0, fresh.transitions(), "the start counted its transition in a new context");
        assertEquals(1, started.transitions());
    }
}
