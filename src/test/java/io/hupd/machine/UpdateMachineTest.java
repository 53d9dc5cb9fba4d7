package io.hupd.machine;

import static io.hupd.machine.UpdateEvent.*;
import static io.hupd.machine.UpdateState.*;
import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class UpdateMachineTest {
    private static UpdateContext fresh() {
        UpdateContext c = UpdateContext.builder()
                .updateId("u1")
                .targetVersion("2.0.0")
                .build();
        return c;
    }

    @Test
    void happyPathReachesCommitted() {
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        assertEquals(IDLE, m.state());
        m.start(fresh());
        assertEquals(LOCKED, m.state());
        for (UpdateState expected : TransitionTable.BEFORE_COMMIT_PATH.subList(1, 9)) {
            m.fire(SUCCEEDED, null);
            assertEquals(expected, m.state());
        }
        m.fire(SUCCEEDED, null);
        assertEquals(REBOOTING, m.state());
        m.fire(BOOTED, null);
        m.fire(SUCCEEDED, null, new BootCheck("B", 3, 3, true, 1, 3, "B", "2.0.0"));
        m.fire(SUCCEEDED, null, HealthFinding.healthy());
        assertEquals(COMMITTING, m.state());
        m.fire(SUCCEEDED, null);
        assertEquals(COMMITTED, m.state());
        assertEquals(14, m.context().transitions());
        assertNull(m.context().reason());
    }

    @Test
    void resumeCountsAttemptsThenReverts() {
        UpdateMachine m = new UpdateMachine(new MachineLimits(3, 30));
        m.start(fresh());
        m.fire(SUCCEEDED, null);
        m.fire(SUCCEEDED, null);
        m.fire(SUCCEEDED, null);
        assertEquals(FETCHING, m.state());
        m.fire(RESUME, null);
        assertEquals(FETCHING, m.state());
        assertEquals(2, m.context().attempts());
        m.fire(RESUME, null);
        assertEquals(3, m.context().attempts());
        UpdateMachine.Fired f = m.fire(RESUME, null);
        assertEquals(REVERTING, f.to());
        assertTrue(m.context().reason().startsWith("attempt limit reached"), m.context().reason());
        m.fire(SUCCEEDED, null);
        assertEquals(UpdateState.FAILED, m.state());
    }

    @Test
    void failureReasonIsKeptAndFirstWins() {
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        m.start(fresh());
        m.fire(SUCCEEDED, null);
        m.fire(SUCCEEDED, null);
        m.fire(UpdateEvent.FAILED, "all sources failed");
        assertEquals(REVERTING, m.state());
        m.fire(SUCCEEDED, null);
        assertEquals("all sources failed", m.context().reason());
    }

    @Test
    void refusedEventThrows() {
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        assertThrows(UpdateMachine.RefusedEvent.class, () -> m.fire(BOOTED, null));
        assertEquals(IDLE, m.state());
    }

    @Test
    void loopGuardRevertsBeforeCommitAndRollsBackAfter() {
        UpdateMachine m = new UpdateMachine(new MachineLimits(100, 12));
        m.start(fresh());
        for (int i = 0; i < 11; i++) {
            m.fire(RESUME, null);
        }
        UpdateMachine.Fired f = m.fire(RESUME, null);
        assertEquals(LOOP_DETECTED, f.event());
        assertEquals(REVERTING, m.state());
        assertTrue(m.context().reason().startsWith("loop detected"));

        UpdateMachine after = new UpdateMachine(new MachineLimits(3, 12));
        UpdateContext c = fresh().toBuilder().transitions(12).build();
        after.restore(HEALTH_CHECKING, c);
        assertEquals(ROLLING_BACK_HEALTH, after.fire(BOOTED, null).to());
    }

    @Test
    void afterTheFirstBootTheGuardsChooseOnWhatTheChecksFound() {
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        m.restore(CHECKING_ALTBOOT, fresh());
        UpdateMachine.Fired fellBack = m.fire(SUCCEEDED, null, new BootCheck("A", 2, 3, true, 3, 3, "B", "2.0.0"));
        assertEquals(ROLLING_BACK_ALTBOOT, fellBack.to());
        assertEquals(ALTBOOT_DETECTED, fellBack.event(), "journaled under the name history has always shown");
        assertTrue(m.context().reason().startsWith("the new OS 2.0.0 (slot B) did not come up"), m.context().reason());

        m.restore(CHECKING_ALTBOOT, fresh());
        UpdateMachine.Fired unarmed = m.fire(SUCCEEDED, null, new BootCheck("A", 2, 3, false, 0, 3, "B", "2.0.0"));
        assertEquals(HEALTH_CHECKING, unarmed.to(), "without the breadcrumb no trial is guarded");
        assertEquals(SUCCEEDED, unarmed.event());

        UpdateMachine.Fired sick = m.fire(SUCCEEDED, null, HealthFinding.unhealthy("health check failed: engine"));
        assertEquals(ROLLING_BACK_HEALTH, sick.to());
        assertEquals(UpdateEvent.UNHEALTHY, sick.event());
        assertEquals("health check failed: engine", sick.reason());
        assertEquals("health check failed: engine", m.context().reason());
    }

    @Test
    void aCheckWithoutItsFindingIsRefused() {
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        m.restore(HEALTH_CHECKING, fresh());
        assertThrows(IllegalArgumentException.class, () -> m.fire(SUCCEEDED, null));
        assertEquals(HEALTH_CHECKING, m.state());
    }

    @Test
    void restorePutsTheMachineInAPersistedStateWithoutRunningAnything() {
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        UpdateContext c = fresh().toBuilder().attempts(2).build();
        m.restore(WRITING_ROOTFS, c);
        assertEquals(WRITING_ROOTFS, m.state());
        assertSame(c, m.context());
        m.fire(SUCCEEDED, null);
        assertEquals(UPDATING_BOOT_FILES, m.state());
    }
}
