package io.hupd.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class SlotTest {
    @Test
    void theOtherSlot() {
        assertEquals(Slot.B, Slot.A.other());
        assertEquals(Slot.A, Slot.B.other());
    }

    @Test
    void storedAsItsName() {
        assertEquals("A", Slot.A.name());
        assertEquals(Slot.B, Slot.of("B"));
        assertEquals(Optional.empty(), Slot.named("a"), "names are upper case, as stored");
        assertEquals(Optional.empty(), Slot.named(null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Slot.of("C"));
        assertEquals("no slot C", e.getMessage());
    }
}
