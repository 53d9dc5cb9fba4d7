package io.hupd.runner;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.machine.MachineLimits;
import io.hupd.machine.Phase;
import io.hupd.machine.RecoveryTable;
import io.hupd.persistence.StoredState;
import io.hupd.testkit.Faults.SimulatedCrash;
import io.hupd.testkit.SideEffects;
import io.hupd.testkit.TestRig;
import java.nio.file.Path;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random fault schedules: the process dies again and again at random side effects, during the update
 * and during each recovery. Whatever the schedule, the update ends in a final state, within the loop ceiling,
 * on a working OS.
 */
class RandomFaultScheduleTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {11, 23, 37, 41, 59, 73})
    void everyScheduleEndsInAFinalStateWithinTheCeiling(long seed) throws Exception {
        Random random = new Random(seed);
        TestRig rig = TestRig.create(tmp, "uboot");
        rig.limits = new MachineLimits(3, 20);
        SideEffects faults = new SideEffects();
        rig.devices = faults.wrapper();
        rig.steps = faults.steps();
        int crashes = 0;
        faults.crashBefore(random.nextInt(30));
        try {
            rig.update(TestRig.V2);
        } catch (SimulatedCrash e) {
            crashes++;
        }
        // Up to 40 power-ons, each cut at a random side effect with probability 0.7.
        for (int i = 0; i < 40; i++) {
            boolean cut = random.nextDouble() < 0.7;
            faults.crashBefore(cut ? random.nextInt(12) : -1);
            try {
                rig.powerOn();
            } catch (SimulatedCrash e) {
                crashes++;
            }
            StoredState s = rig.store().load().orElseThrow();
            if (s.phase() == Phase.DONE && !rig.sim.poweredOn()) {
                continue;
            }
            if (s.phase() == Phase.DONE) {
                break;
            }
        }
        rig.devices = UnaryOperator.identity();
        rig.steps = UnaryOperator.identity();
        rig.powerOnUntilSettled();
        StoredState end = rig.store().load().orElseThrow();
        String ctx = "seed " + seed + ", " + crashes + " crashes, trace " + rig.trace();
        assertEquals(Phase.DONE, end.phase(), ctx);
        assertTrue(end.context().transitions() <= rig.limits.loopCeiling() + 4,
                end.context().transitions() + " transitions: " + ctx);
        String running = rig.runningVersion();
        assertTrue(running.equals(TestRig.V2) == end.stateName().equals("COMMITTED"), ctx);
        assertEquals(RecoveryTable.Action.NOTHING, RecoveryTable.actionFor(end.stateName(), end.phase(),
                RecoveryTable.Trigger.POWER_ON));
        assertEquals(java.util.List.of(), rig.sim.state().breadcrumbs(), ctx);
        assertTrue(rig.ports().supervisor().isRunning(), ctx);
    }
}
