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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
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

    /** On both image kinds: a filesystem image's every slot flush (its checkpoints) is a boundary too. */
    @ParameterizedTest
    @EnumSource(TestRig.ImageKind.class)
    void everySideEffectBoundaryUnderCrashAndDoubleCrash(TestRig.ImageKind kind) throws Exception {
        TestRig template = TestRig.create(tmp.resolve("template"), "uboot", kind);

        // The clean run, recorded.
        TestRig clean = template.copy(tmp.resolve("clean"));
        SideEffects recorder = new SideEffects().insideSettingsWrites(clean.sim.bootDir(), "uboot")
                .crashBefore(-1);
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
        if (kind == TestRig.ImageKind.FILESYSTEM_IMAGE) {
            assertTrue(boundaries.stream().filter(b -> b.startsWith("Slots.openRaw: flush")).count() > 2,
                    "the slot write is not cut inside: " + boundaries);
        }
        System.out.println("crash enumeration: " + n + " side-effect boundaries, " + cases + " cases, endings "
                + endings + " (" + kind + ")");
    }

    /**
     * Issue 18 finding 3, on every flavour: a power cut inside each boot-settings write of the update and its
     * trial. Cut inside the switch, the update is still before its commit point: it must go on into its trial
     * and commit, never be reported as a new OS that did not come up.
     */
    @ParameterizedTest
    @ValueSource(strings = {"uboot", "grub", "uboot-env"})
    void powerCutInsideEachBootSettingsWrite(String flavour) throws Exception {
        TestRig template = TestRig.create(tmp.resolve("template-" + flavour), flavour);
        TestRig clean = template.copy(tmp.resolve("clean-" + flavour));
        SideEffects recorder = new SideEffects().insideSettingsWrites(clean.sim.bootDir(), flavour).crashBefore(-1);
        clean.devices = recorder.wrapper();
        clean.steps = recorder.steps();
        clean.update(TestRig.V2);
        clean.powerOnUntilSettled();
        assertEquals("COMMITTED", clean.state());
        List<String> boundaries = List.copyOf(recorder.log);
        int inSwitch = -1;
        boolean armed = false;
        int cases = 0;
        for (int k = 0; k < boundaries.size(); k++) {
            armed |= boundaries.get(k).startsWith("persist ARMING_ROLLBACKS -SUCCEEDED");
            if (!boundaries.get(k).startsWith("Bootloader.write: decided")) {
                continue;
            }
            boolean switchWrite = armed && inSwitch < 0;
            if (switchWrite) {
                inSwitch = k;
            }
            TestRig rig = template.copy(tmp.resolve(flavour + "-inside-" + k));
            String ending = oneCase(rig, k, -1, flavour);
            cases++;
            List<String> trace = rig.trace();
            String ctx = flavour + ", power cut inside the settings write before boundary " + k + ": " + trace;
            if (switchWrite) {
                assertEquals(TestRig.V2 + " COMMITTED", ending, ctx);
                assertTrue(trace.stream().noneMatch(t -> t.contains("ALTBOOT_DETECTED")), ctx);
                // file flavours: the sibling is completed after the boot; binary env: the torn copy is ignored
                assertTrue(rig.journal().stream().anyMatch(e -> e.reason() != null
                        && e.reason().contains("completed after this boot"))
                        || trace.contains("SWITCHING_BOOT -RESUME-> SWITCHING_BOOT"), ctx);
            }
        }
        assertTrue(inSwitch >= 0, "no boot-settings write recorded: " + boundaries);
        System.out.println("power cuts inside settings writes (" + flavour + "): " + cases + " cases");
    }

    private String oneCase(TestRig template, int k, int j) throws Exception {
        return oneCase(template.copy(tmp.resolve("k" + k + "j" + j)), k, j, "uboot");
    }

    /** Crash before side effect k of the update and its trial; optionally again before side effect j of the recovery. */
    private String oneCase(TestRig rig, int k, int j, String flavour) throws Exception {
        SideEffects cut = new SideEffects().insideSettingsWrites(rig.sim.bootDir(), flavour).crashBefore(k);
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
