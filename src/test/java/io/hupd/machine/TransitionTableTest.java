package io.hupd.machine;

import static io.hupd.machine.TransitionGuard.*;
import static io.hupd.machine.UpdateEvent.*;
import static io.hupd.machine.UpdateState.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checks the table passes when it is built: each bad table below is refused, and the real one is accepted. */
class TransitionTableTest {
    private static List<Transition> realPlus(Transition... extra) {
        List<Transition> rows = new ArrayList<>(TransitionTable.ROWS);
        rows.addAll(List.of(extra));
        return rows;
    }

    private static String refusal(List<Transition> rows) {
        return assertThrows(IllegalArgumentException.class, () -> TransitionTable.checked(rows)).getMessage();
    }

    @Test
    void theRealTableIsAccepted() {
        assertEquals(TransitionTable.ROWS, TransitionTable.checked(TransitionTable.ROWS));
    }

    @Test
    void aDuplicateRowIsRefused() {
        String why = refusal(realPlus(new Transition(FETCHING, SUCCEEDED, REVERTING, null, null)));
        assertTrue(why.startsWith("two rows for FETCHING -SUCCEEDED-> with guard null"), why);
    }

    @Test
    void twoRowsToTheSameTargetAreRefused() {
        List<Transition> rows = new ArrayList<>(List.of(
                new Transition(FETCHING, RESUME, FETCHING, ATTEMPTS_LEFT, null),
                new Transition(FETCHING, RESUME, FETCHING, ATTEMPT_LIMIT_REACHED, null)));
        String why = refusal(rows);
        assertTrue(why.startsWith("two rows for FETCHING -RESUME-> FETCHING"), why);
    }

    @Test
    void leavingAFinalStateOnAnythingButStartIsRefused() {
        String why = refusal(realPlus(new Transition(COMMITTED, RESUME, COMMITTING, null, null)));
        assertTrue(why.startsWith("a row leaves the final state COMMITTED on RESUME"), why);
    }

    @Test
    void aGuardWithoutItsComplementIsRefused() {
        List<Transition> rows = new ArrayList<>(TransitionTable.ROWS);
        rows.removeIf(r -> r.source() == FETCHING && r.event() == RESUME && r.guard() == ATTEMPT_LIMIT_REACHED);
        String why = refusal(rows);
        assertTrue(why.startsWith("FETCHING -RESUME-> is guarded but its rows are not one guard and its complement"),
                why);
    }

    @Test
    void aGuardedRowBesideAnUnguardedOneIsRefused() {
        String why = refusal(realPlus(new Transition(REVERTING, SUCCEEDED, REVERTING, ATTEMPTS_LEFT, null)));
        assertTrue(why.startsWith("REVERTING -SUCCEEDED-> is guarded"), why);
    }

    @Test
    void everyGuardHasAComplementThatLeadsBack() {
        for (TransitionGuard g : TransitionGuard.values()) {
            assertNotEquals(g, g.complement());
            assertEquals(g, g.complement().complement());
        }
    }

    @Test
    void labelsAreTheCamelCaseNamesTheDiagramsShow() {
        assertEquals("attemptLimitReached", ATTEMPT_LIMIT_REACHED.label());
        assertEquals("recordAttemptLimit", TransitionAction.RECORD_ATTEMPT_LIMIT.label());
    }
}
