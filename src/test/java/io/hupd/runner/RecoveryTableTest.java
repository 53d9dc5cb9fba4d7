package io.hupd.runner;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.machine.Phase;
import io.hupd.machine.RecoveryTable;
import io.hupd.machine.RecoveryTable.Action;
import io.hupd.machine.RecoveryTable.Trigger;
import io.hupd.machine.UpdateState;
import io.hupd.testkit.TestRig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The recovery table: complete, and safe for states a newer hupd wrote. */
class RecoveryTableTest {
    @TempDir
    Path tmp;

    @Test
    void everyStateHasOneActionPerTrigger() {
        for (Trigger t : Trigger.values()) {
            assertEquals(UpdateState.values().length, RecoveryTable.rows(t).size());
            for (UpdateState s : UpdateState.values()) {
                Action a = RecoveryTable.actionFor(s, t);
                assertNotNull(a, s + " on " + t);
                if (s.phase() == Phase.DONE || s == UpdateState.IDLE) {
                    assertEquals(Action.NOTHING, a, s.name());
                }
                if (s.phase() == Phase.BEFORE_COMMIT) {
                    assertTrue(a == Action.RESUME || a == Action.ASK_BOOT_SETTINGS, s + " " + a);
                }
            }
        }
        assertEquals(Action.VERIFY_BOOT, RecoveryTable.actionFor(UpdateState.HEALTH_CHECKING, Trigger.POWER_ON));
        assertEquals(Action.RESUME, RecoveryTable.actionFor(UpdateState.HEALTH_CHECKING, Trigger.PROCESS_RESTART));
        assertEquals(Action.WAIT_FOR_REBOOT, RecoveryTable.actionFor(UpdateState.REBOOTING, Trigger.PROCESS_RESTART));
    }

    @Test
    void unknownStatesGetTheSafeActionOfTheirPhase() {
        assertEquals(Action.REVERT_UNKNOWN, RecoveryTable.actionFor("NEW_STEP", Phase.BEFORE_COMMIT, Trigger.POWER_ON));
        assertEquals(Action.VERIFY_BOOT, RecoveryTable.actionFor("NEW_CHECK", Phase.AFTER_COMMIT, Trigger.POWER_ON));
        assertEquals(Action.WAIT_FOR_REBOOT,
                RecoveryTable.actionFor("NEW_CHECK", Phase.AFTER_COMMIT, Trigger.PROCESS_RESTART));
        assertEquals(Action.NOTHING, RecoveryTable.actionFor("NEW_RESULT", Phase.DONE, Trigger.POWER_ON));
    }

    private static void rename(TestRig rig, String state) throws Exception {
        String url = "jdbc:h2:file:" + rig.sim.dataDir().resolve("hupd/state");
        try (Connection c = DriverManager.getConnection(url, "hupd", "");
                Statement st = c.createStatement()) {
            st.execute("UPDATE update_state SET state = '" + state + "'");
        }
    }

    @Test
    void anUnknownStateBeforeTheCommitPointIsRevertedAtPowerOn() throws Exception {
        TestRig rig = TestRig.create(tmp, "uboot");
        rig.steps = io.hupd.testkit.Faults.at(UpdateState.UPDATING_BOOT_FILES,
                io.hupd.testkit.Faults.Kind.CRASH_AFTER, 1);
        assertThrows(io.hupd.testkit.Faults.SimulatedCrash.class, () -> rig.update(TestRig.V2));
        rename(rig, "UPDATING_BOOT_FILES_V2");
        rig.steps = java.util.function.UnaryOperator.identity();
        rig.powerOnUntilSettled();
        assertEquals("FAILED", rig.state());
        assertEquals(TestRig.V1, rig.runningVersion());
        assertTrue(rig.trace().contains("UPDATING_BOOT_FILES_V2 -RECOVERED-> REVERTING"), rig.trace().toString());
        assertTrue(rig.store().load().orElseThrow().context().reason().contains("not known here"));
    }

    @Test
    void anUnknownStateAfterTheCommitPointIsVerifiedAtPowerOn() throws Exception {
        TestRig rig = TestRig.create(tmp, "uboot");
        rig.update(TestRig.V2);
        rename(rig, "REBOOTING_WITH_MEASURED_BOOT");
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertEquals(TestRig.V2, rig.runningVersion());
    }
}
