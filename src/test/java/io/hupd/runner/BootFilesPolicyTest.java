package io.hupd.runner;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.adapters.sim.DeviceConfig;
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

/** A device type's own keep-back list (device.json bootFiles) through a real update, rollback and commit. */
class BootFilesPolicyTest {
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

    private static Map<String, String> files(TestRig rig) throws Exception {
        Map<String, String> m = new TreeMap<>(TreeSnapshot.of(rig.sim.bootDir()));
        m.keySet().removeAll(BootFilePolicy.BALENA.bootloaderOwned());
        return m;
    }
}
