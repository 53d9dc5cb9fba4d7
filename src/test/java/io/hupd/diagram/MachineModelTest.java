package io.hupd.diagram;

import static io.hupd.machine.UpdateState.*;
import static org.junit.jupiter.api.Assertions.*;

import io.hupd.machine.Transition;
import io.hupd.machine.TransitionTable;
import io.hupd.machine.UpdateState;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MachineModelTest {
    private final MachineModel model = MachineModel.live();

    @Test
    void theLiveMachineHasExactlyTheTableRows() {
        Comparator<Transition> order = Comparator.comparing(Transition::source).thenComparing(Transition::event)
                .thenComparing(Transition::target);
        List<Transition> table = TransitionTable.ROWS.stream().sorted(order).toList();
        List<Transition> live = model.transitions().stream().sorted(order).toList();
        assertEquals(table, live, "guard and action names included");
    }

    @Test
    void happyPathRunsFromIdleToCommittedThroughTheCommitPoint() {
        assertEquals(List.of(IDLE, LOCKED, PREFLIGHT, STOPPING_SUPERVISOR, FETCHING, WRITING_ROOTFS,
                UPDATING_BOOT_FILES, UPDATING_SUPERVISOR, ARMING_ROLLBACKS, SWITCHING_BOOT, REBOOTING,
                CHECKING_ALTBOOT, HEALTH_CHECKING, COMMITTING, COMMITTED), model.happyPath());
        assertEquals(SWITCHING_BOOT, model.commitPoint());
    }

    @Test
    void everyTransitionIsOnExactlyOneEdge() {
        int n = model.edges().stream().mapToInt(e -> e.transitions().size()).sum();
        assertEquals(model.transitions().size(), n);
        Set<String> ids = new HashSet<>();
        for (MachineModel.Edge e : model.edges()) {
            assertTrue(ids.add(e.id()), "duplicate edge " + e.id());
        }
    }

    @Test
    void sideStatesSitBesideTheStatesThatLeadToThemAndNeverOnTheHappyPath() {
        Layout layout = new Layout(model);
        Set<String> cells = new HashSet<>();
        for (UpdateState s : model.states()) {
            Layout.Cell c = layout.cell(s);
            assertNotNull(c, s.name());
            assertTrue(cells.add(c.column() + ":" + c.row()), "two states in one cell: " + s);
            assertEquals(model.happyPath().contains(s), c.column() == 0, s.name());
        }
        assertEquals(1, layout.cell(REVERTING).column());
        assertEquals(2, layout.cell(UpdateState.FAILED).column());
        assertEquals(layout.cell(CHECKING_ALTBOOT).row(), layout.cell(ROLLING_BACK_ALTBOOT).row());
        assertEquals(layout.cell(ROLLING_BACK_HEALTH).row(), layout.cell(ROLLED_BACK_HEALTH).row());
    }
}
