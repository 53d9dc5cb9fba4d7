package io.hupd.runner;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.ports.BootSettings;
import io.hupd.testkit.Faults.SimulatedCrash;
import io.hupd.testkit.SideEffects;
import io.hupd.testkit.TestRig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exhaustive mode: one clean update (and its trial) is recorded as a list of side effects; then for every
 * boundary k the update is run again with the process dying just before side effect k, the device is powered
 * on until it settles, and — for a double fault — the recovery itself is also cut, at its own boundary j.
 * Every case must end with the device on the old or the new OS, settings, breadcrumbs and status agreeing,
 * and the user's data intact.
 */
class CrashEnumerationTest {
    /** Double faults are tried at every {@code DOUBLE_STRIDE}-th first cut (all of them with -Dhupd.soak=true). */
    private static final int DOUBLE_STRIDE = Boolean.getBoolean("hupd.soak") ? 1 : 6;

    @TempDir
    Path tmp;

    @Test
    void everySideEffectBoundaryUnderCrashAndDoubleCrash() throws Exception {
        TestRig template = TestRig.create(tmp.resolve("template"), "uboot");

        // The clean run, recorded.
        TestRig clean = template.copy(tmp.resolve("clean"));
        SideEffects recorder = new SideEffects().crashBefore(-1);
        clean.devices = recorder.wrapper();
        clean.steps = recorder.steps();
        clean.update(TestRig.V2);
        clean.powerOnUntilSettled();
        assertEquals("COMMITTED", clean.state());
        List<String> boundaries = List.copyOf(recorder.log);
        int n = boundaries.size();
        assertTrue(n > 20, "too few side effects recorded: " + boundaries);

        Map<String, Integer> endings = new TreeMap<>();
        int cases = 0;
        for (int k = 0; k < n; k++) {
            endings.merge(oneCase(template, k, -1), 1, Integer::sum);
            cases++;
            if (k % DOUBLE_STRIDE == 0) {
                for (int j : new int[] {0, 2, 5}) {
                    endings.merge(oneCase(template, k, j), 1, Integer::sum);
                    cases++;
                }
            }
        }
        System.out.println("crash enumeration: " + n + " side-effect boundaries, " + cases + " cases, endings "
                + endings);
    }

    /** Crash before side effect k of the update and its trial; optionally again before side effect j of the recovery. */
    private String oneCase(TestRig template, int k, int j) throws Exception {
        TestRig rig = template.copy(tmp.resolve("k" + k + "j" + j));
        SideEffects cut = new SideEffects().crashBefore(k);
        rig.devices = cut.wrapper();
        rig.steps = cut.steps();
        String where = "crash before side effect " + k + (j >= 0 ? ", then before " + j + " of the recovery" : "");
        boolean crashed = false;
        try {
            rig.update(TestRig.V2);
            rig.powerOnUntilSettled();
        } catch (SimulatedCrash e) {
            crashed = true;
            where += " (" + e.getMessage() + ")";
        }
        if (crashed) {
            if (j >= 0) {
                cut.crashBefore(j);
                try {
                    rig.powerOnUntilSettled();
                } catch (SimulatedCrash e) {
                    where += ", second crash " + e.getMessage();
                }
            }
            rig.devices = java.util.function.UnaryOperator.identity();
            rig.steps = java.util.function.UnaryOperator.identity();
            rig.powerOnUntilSettled();
        }
        String running = rig.runningVersion();
        String state = rig.state();
        String ctx = where + ": state " + state + ", running " + running;
        assertTrue(running.equals(TestRig.V1) && !state.equals("COMMITTED")
                || running.equals(TestRig.V2) && state.equals("COMMITTED"), ctx);
        BootSettings s = rig.sim.bootloader().read();
        assertEquals(new BootSettings(rig.ports().slots().partitionOf(rig.sim.bootedSlot()), false, 0), s, ctx);
        assertEquals(List.of(), rig.sim.state().breadcrumbs(), ctx);
        assertTrue(rig.ports().supervisor().isRunning(), ctx);
        assertEquals("user data\n", Files.readString(rig.deviceDir.resolve("data/user/notes.txt")), ctx);
        return running + " " + state;
    }
}
