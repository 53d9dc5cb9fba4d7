package io.hupd.runner;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.adapters.sim.SampleOs;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateState;
import io.hupd.ports.BootFilePolicy;
import io.hupd.ports.BootSettings;
import io.hupd.ports.StatePartition;
import io.hupd.steps.Step;
import io.hupd.testkit.Faults;
import io.hupd.testkit.Faults.SimulatedCrash;
import io.hupd.testkit.TestRig;
import io.hupd.testkit.TreeSnapshot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The trial boot of a new OS on each bootloader flavour: a hung health check, clean reboots and power cuts while
 * the new OS is on trial — and after every rollback the boot partition as it was before the update.
 */
class TrialBootTest {
    @TempDir
    Path tmp;

    /** The old root with no trial armed: what both rollbacks must leave. */
    private static final BootSettings OLD_ROOT = new BootSettings(2, false, 0);

    /**
     * The boot partition byte for byte, but for the bootloader's own files, which are compared by their values
     * (the settings) instead: the binary U-Boot env's copy counter rightly moves on with every write.
     */
    private static Map<String, String> bootPartition(TestRig rig) throws Exception {
        Map<String, String> files = new TreeMap<>(TreeSnapshot.of(rig.sim.bootDir()));
        files.keySet().removeAll(BootFilePolicy.BALENA.bootloaderOwned());
        files.put("(settings)", rig.sim.bootloader().read().withBootcount(0).toString());
        files.put("(limit)", Integer.toString(rig.sim.bootloader().bootLimit()));
        return files;
    }

    private static void assertRolledBack(TestRig rig, Map<String, String> before, String marker) throws Exception {
        assertEquals(TestRig.V1, rig.runningVersion());
        assertEquals(OLD_ROOT, rig.sim.bootloader().read(), "the settings name the old root, no trial armed");
        assertEquals(before, bootPartition(rig), "boot partition as before the update, byte for byte");
        assertEquals(List.of(), rig.sim.state().breadcrumbs());
        assertEquals(List.of(marker), rig.sim.state().markers());
        assertTrue(rig.ports().supervisor().isRunning());
    }

    @ParameterizedTest
    @ValueSource(strings = {"uboot", "grub", "uboot-env"})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aHungRequiredCheckFailsAtItsLimitAndTheRollbackStillHappens(String bootloader) throws Exception {
        TestRig rig = TestRig.create(tmp, bootloader, c -> c.withHealthCheckTimeout("2s").withHealthCount(1));
        String version = "2.117.0";
        String ref = SampleOs.image(tmp.resolve("src-hung"), tmp.resolve("images"), TestRig.TYPE, "arm64", version,
                "14.1.0", SampleOs.Flaw.HUNG_CHECK);
        Map<String, String> before = bootPartition(rig);
        assertEquals(UpdateState.REBOOTING, rig.service(rig.ports())
                .update(new UpdateRequest(version, List.of(ref), null, true, true)));

        long t0 = System.nanoTime();
        assertEquals("B", rig.powerOn(), "the new OS boots; its health decides");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals("ROLLED_BACK_HEALTH", rig.state(), "rolled back within this power-on");
        // One try, ended by the 2 s limit (ample for the other checks, which read the image). The rest is reading
        // the image and writing the rollback; a check that blocked the verdict would hold this power-on until the
        // test's own timeout.
        assertTrue(ms >= 2000, "the hung check was given its limit: " + ms + " ms");
        assertTrue(ms < 15_000, "the rollback came " + ms + " ms after power-on");

        rig.powerOnUntilSettled();
        assertEquals("ROLLED_BACK_HEALTH", rig.state());
        assertRolledBack(rig, before, StatePartition.HEALTH_TRIGGERED);
        UpdateContext ctx = rig.store().load().orElseThrow().context();
        assertEquals("required.d/50-app-ready", ctx.failedCheck());
        assertTrue(ctx.reason().contains("required.d/50-app-ready") && ctx.reason().contains("timed out after 2s"),
                ctx.reason());
        String kept = rig.sim.state().read(StatePartition.HEALTH_TRIGGERED).orElseThrow();
        assertTrue(kept.contains("required.d/50-app-ready: timed out after 2s"), kept);
        assertTrue(kept.contains("--- output of required.d/50-app-ready ---"), kept);
    }

    @ParameterizedTest
    @ValueSource(strings = {"uboot", "grub", "uboot-env"})
    void cleanRebootsDuringTheTrialAreNeverCountedAndTheUpdateCommits(String bootloader) throws Exception {
        TestRig rig = TestRig.create(tmp, bootloader);
        rig.update(TestRig.V2);
        int limit = rig.sim.bootloader().bootLimit();
        int reboots = limit + 1;
        List<Integer> countAtShutdown = new ArrayList<>();
        AtomicInteger left = new AtomicInteger(reboots);
        // Someone reboots the device while rollback-health is still judging the new OS (the supervisor applying
        // a config change, a user's reboot): the shutdown stops hupd and clears the count, as
        // rollback-clear-bootcount does.
        rig.steps = registry -> {
            Step health = registry.forState(UpdateState.HEALTH_CHECKING).orElseThrow();
            return registry.replace(UpdateState.HEALTH_CHECKING, (ctx, log) -> {
                if (left.getAndDecrement() <= 0) {
                    return health.run(ctx, log);
                }
                countAtShutdown.add(rig.sim.bootloader().read().bootcount());
                rig.sim.shutdownCleanly("reboot requested during the trial");
                throw new SimulatedCrash("clean reboot while health checking");
            });
        };
        for (int i = 1; i <= reboots; i++) {
            assertThrows(SimulatedCrash.class, rig::powerOn, "reboot " + i);
            assertEquals("B", rig.sim.bootedSlot(), "reboot " + i + " came up in the new OS");
            assertEquals(new BootSettings(3, true, 0), rig.sim.bootloader().read(), "count cleared at reboot " + i);
        }
        assertEquals(java.util.Collections.nCopies(reboots, 1), countAtShutdown,
                "each boot of the new OS was counted by the bootloader, and only once");

        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertEquals(TestRig.V2, rig.runningVersion());
        assertEquals(new BootSettings(3, false, 0), rig.sim.bootloader().read());
        assertEquals(List.of(), rig.sim.state().markers());
    }

    @ParameterizedTest
    @ValueSource(strings = {"uboot", "grub", "uboot-env"})
    void powerCutsDuringTheTrialAreCountedUntilTheBootloaderFallsBack(String bootloader) throws Exception {
        TestRig rig = TestRig.create(tmp, bootloader);
        Map<String, String> before = bootPartition(rig);
        rig.update(TestRig.V2);
        int limit = rig.sim.bootloader().bootLimit();
        // The power goes while the (healthy) new OS is being checked, every time, before it can commit.
        rig.steps = Faults.at(UpdateState.HEALTH_CHECKING, Faults.Kind.CRASH_BEFORE, limit);
        for (int i = 1; i <= limit; i++) {
            assertThrows(SimulatedCrash.class, rig::powerOn, "power cut " + i);
            assertEquals("B", rig.sim.bootedSlot());
            assertEquals(new BootSettings(3, true, i), rig.sim.bootloader().read(), "power cut " + i + " counted");
        }
        assertEquals("A", rig.powerOn(), "after " + limit + " uncounted-for boots the bootloader falls back");
        assertEquals("ROLLED_BACK_ALTBOOT", rig.state());
        rig.powerOnUntilSettled();
        assertEquals("ROLLED_BACK_ALTBOOT", rig.state());
        assertRolledBack(rig, before, StatePartition.ALTBOOT_TRIGGERED);
    }
}
