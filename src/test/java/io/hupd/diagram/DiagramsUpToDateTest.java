package io.hupd.diagram;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.machine.Transition;
import io.hupd.machine.UpdateEvent;
import io.hupd.machine.UpdateState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The committed diagrams are what the machine that runs produces. A golden-file check (not a write-in-place):
 * CI must fail when someone changes the machine and forgets to regenerate.
 */
class DiagramsUpToDateTest {
    static Path committed() {
        return Path.of(System.getProperty("hupd.repo", ".")).resolve("statemachine-diagrams");
    }

    static List<String> stale(MachineModel model) throws Exception {
        List<String> stale = new ArrayList<>();
        for (Map.Entry<String, String> e : Diagrams.all(model).entrySet()) {
            Path p = committed().resolve(e.getKey());
            if (!Files.exists(p) || !Files.readString(p, StandardCharsets.UTF_8).equals(e.getValue())) {
                stale.add(e.getKey());
            }
        }
        return stale;
    }

    @Test
    void committedDiagramsMatchTheLiveMachine() throws Exception {
        List<String> stale = stale(MachineModel.live());
        assertTrue(stale.isEmpty(), "statemachine-diagrams/ is out of date (" + String.join(", ", stale)
                + " differ from what the update machine produces): run `" + Diagrams.REGENERATE
                + "` and commit the result");
    }

    @Test
    void anAddedTransitionMakesTheCheckFail() throws Exception {
        MachineModel live = MachineModel.live();
        List<Transition> more = new ArrayList<>(live.transitions());
        more.add(new Transition(UpdateState.FETCHING, UpdateEvent.UNHEALTHY, UpdateState.REVERTING, null, null));
        List<String> stale = stale(new MachineModel(live.initial(), more));
        assertEquals(List.of("update-machine.puml", "update-machine.mmd", "update-machine.dot", "update-machine.svg"),
                stale, "every diagram must show the added transition; the recovery table does not list transitions");
    }

    @Test
    void everyFileSaysHowItIsRegenerated() throws Exception {
        for (Map.Entry<String, String> e : Diagrams.all(MachineModel.live()).entrySet()) {
            assertTrue(e.getValue().contains(Diagrams.REGENERATE), e.getKey());
        }
    }
}
