package io.hupd.runner;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.adapters.fs.RollForwardFiles;
import io.hupd.adapters.sim.DeviceConfig;
import io.hupd.adapters.sim.SimDevice;
import io.hupd.machine.UpdateState;
import io.hupd.testkit.Faults;
import io.hupd.ports.BootFilePolicy;
import io.hupd.testkit.TestRig;
import io.hupd.testkit.TreeSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The boot partition through real updates: a device type's own keep-back list (device.json bootFiles) through an
 * update, a rollback and a commit, and a boot-file write cut by the power, finished at the next power-on.
 */
class BootPartitionTest {
    @TempDir
    Path tmp;

    @Test
    void aConfiguredKeepBackFileIsNeverOverwrittenAndSurvivesTheRollback() throws Exception {
        // This device type keeps the user's cmdline.txt, lets updates replace config.txt (dropped from balena's
        // list), and only adds the overlay when it is missing.
        List<String> keepBack = new ArrayList<>(BootFilePolicy.BALENA.keepBack());
        keepBack.remove("config.txt");
        keepBack.add("/cmdline.txt");
        List<String> copyIfMissing = new ArrayList<>(BootFilePolicy.BALENA.copyIfMissing());
        copyIfMissing.add("overlays/balena-fin.dtbo");
        TestRig rig = TestRig.create(tmp, "uboot",
                c -> c.withBootFiles(new DeviceConfig.BootFiles(keepBack, copyIfMissing)));
        Path boot = rig.sim.bootDir();
        Files.writeString(boot.resolve("cmdline.txt"), "console=tty1 root=LABEL=resin-rootA quiet splash\n");
        String overlay = Files.readString(boot.resolve("overlays/balena-fin.dtbo"));
        Map<String, String> before = files(rig);

        rig.update(TestRig.BROKEN);
        assertEquals("console=tty1 root=LABEL=resin-rootA quiet splash\n", Files.readString(boot.resolve("cmdline.txt")));
        assertEquals(overlay, Files.readString(boot.resolve("overlays/balena-fin.dtbo")), "present, so not copied");
        assertEquals("# default config.txt shipped with " + TestRig.BROKEN + "\n",
                Files.readString(boot.resolve("config.txt")), "no longer kept back on this device type");
        assertEquals(TestRig.BROKEN + "\n", Files.readString(boot.resolve("os-version")));

        rig.powerOnUntilSettled();
        assertEquals("ROLLED_BACK_HEALTH", rig.state());
        assertEquals(before, files(rig), "boot partition as before the update, byte for byte");

        rig.update(TestRig.V2);
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertEquals("console=tty1 root=LABEL=resin-rootA quiet splash\n", Files.readString(boot.resolve("cmdline.txt")));
        assertTrue(Files.readString(boot.resolve("config.json")).contains("deviceType"),
                "config.json stays kept back even though the list was replaced");
    }

    @Test
    void aBootFileWriteCutByThePowerIsFinishedAtTheNextPowerOn() throws Exception {
        TestRig rig = TestRig.create(tmp, "uboot");
        Path boot = rig.sim.bootDir();
        byte[] oldImage = Files.readAllBytes(boot.resolve("Image"));
        byte[] newVersion = (TestRig.V2 + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        // The power goes in the middle of the boot-file update: os-version's new content is whole in its sibling,
        // the kernel's sibling was still being written.
        rig.steps = registry -> registry.replace(UpdateState.UPDATING_BOOT_FILES, (ctx, log) -> {
            Files.write(RollForwardFiles.siblingOf(boot.resolve("os-version"), newVersion), newVersion);
            Files.write(RollForwardFiles.siblingOf(boot.resolve("Image"), new byte[8192]), new byte[100]);
            throw new Faults.SimulatedCrash("power cut while replacing boot files");
        });
        assertThrows(Faults.SimulatedCrash.class, () -> rig.update(TestRig.V2));
        rig.steps = java.util.function.UnaryOperator.identity();

        SimDevice.PowerOn on = rig.sim.powerOn();
        assertEquals("A", on.slot(), "the switch had not happened: the old OS boots");
        assertArrayEquals(newVersion, Files.readAllBytes(boot.resolve("os-version")), "the decided write completed");
        assertArrayEquals(oldImage, Files.readAllBytes(boot.resolve("Image")), "the torn write dropped");
        try (var s = Files.walk(boot)) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".hupdrw")).toList());
        }
        assertTrue(on.detail().contains("completed [os-version]"), on.detail());

        // hupd then picks the interrupted update up, and the device ends on the new OS.
        rig.service(rig.ports()).onPowerOn();
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertEquals(TestRig.V2, rig.runningVersion());
        assertEquals(TestRig.V2 + "\n", Files.readString(boot.resolve("os-version")));
    }

    private static Map<String, String> files(TestRig rig) throws Exception {
        Map<String, String> m = new TreeMap<>(TreeSnapshot.of(rig.sim.bootDir()));
        m.keySet().removeAll(BootFilePolicy.BALENA.bootloaderOwned());
        return m;
    }
}
