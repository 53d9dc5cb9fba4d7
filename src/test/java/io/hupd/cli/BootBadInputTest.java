package io.hupd.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.adapters.fs.BootDirectory;
import io.hupd.ports.BootFilePolicy;
import io.hupd.ports.BootSettings;
import io.hupd.testkit.TestRig;
import io.hupd.testkit.TreeSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Boot settings and boot partition that an update must refuse, on each bootloader flavour, through the command
 * line: one clear line, exit 1, and nothing on the device changed.
 */
class BootBadInputTest {
    @TempDir
    Path tmp;

    /**
     * Everything an update could touch. The bootloader's own files are compared by value when they parse (the
     * canary write of the coherence checks rightly moves the binary env's copy counter on) and byte for byte
     * when they do not (then nothing may write them at all).
     */
    private static Map<String, String> device(TestRig rig) throws Exception {
        Map<String, String> m = new TreeMap<>();
        for (String part : new String[] {"boot", "state", "data/user"}) {
            TreeSnapshot.of(rig.deviceDir.resolve(part)).forEach((k, v) -> m.put(part + "/" + k, v));
        }
        try {
            BootSettings s = rig.sim.bootloader().read();
            BootFilePolicy.BALENA.bootloaderOwned().forEach(f -> m.remove("boot/" + f));
            m.put("(settings)", s.toString());
        } catch (IOException unreadable) {
            // compared byte for byte
        }
        for (String img : new String[] {"rootA.img", "rootB.img"}) {
            m.put(img, TreeSnapshot.sha256(Files.readAllBytes(rig.deviceDir.resolve(img))));
        }
        return m;
    }

    private static void refused(TestRig rig, String messagePart, String ref, String version) throws Exception {
        Map<String, String> before = device(rig);
        io.hupd.testkit.Cli.Run r = io.hupd.testkit.Cli.hupd("update", "--device", rig.deviceDir.toString(),
                "--target-version", version, "--image", ref);
        assertEquals(1, r.code(), "exit code; stderr: " + r.err());
        String err = r.err().strip();
        String last = err.substring(err.lastIndexOf('\n') + 1);
        assertTrue(last.startsWith("hupd: ") && last.contains(messagePart), "expected '" + messagePart + "' in: " + err);
        assertFalse(err.contains("\tat "), "no stack trace: " + err);
        assertEquals(before, device(rig), "nothing on the device changed");
        assertTrue(rig.ports().supervisor().isRunning(), "the supervisor runs again");
    }

    /** Damages the settings the way a torn write or a bad flash would, per flavour. */
    private static void corrupt(TestRig rig, String bootloader) throws IOException {
        Path boot = rig.sim.bootDir();
        switch (bootloader) {
            case "uboot" -> Files.writeString(boot.resolve("resinOS_uEnv.txt"), "resin_root_part=\u0000\u00ff\u00ff\n");
            case "grub" -> {
                Path env = Files.exists(boot.resolve("EFI/BOOT/grubenv")) ? boot.resolve("EFI/BOOT/grubenv")
                        : boot.resolve("grub/grubenv");
                Files.write(env, "x".repeat(1024).getBytes());
            }
            default -> {
                // both redundant copies bad: there is no good copy to fall back on
                byte[] noise = new byte[(int) Files.size(boot.resolve("uboot.env"))];
                new Random(4).nextBytes(noise);
                Files.write(boot.resolve("uboot.env"), noise);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"uboot", "grub", "uboot-env"})
    void corruptSettingsWrongRootAndAFullBootPartitionAreRefused(String bootloader) throws Exception {
        TestRig rig = TestRig.create(tmp, bootloader);
        Map<Path, byte[]> good = new TreeMap<>();
        for (String f : BootFilePolicy.BALENA.bootloaderOwned()) {
            Path p = rig.sim.bootDir().resolve(f);
            if (Files.exists(p)) {
                good.put(p, Files.readAllBytes(p));
            }
        }

        corrupt(rig, bootloader);
        refused(rig, "the boot settings cannot be read", rig.ref(TestRig.V2), TestRig.V2);
        for (var e : good.entrySet()) {
            Files.write(e.getKey(), e.getValue());
        }

        rig.sim.bootloader().write(new BootSettings(3, false, 0));
        refused(rig, "the running root is slot A", rig.ref(TestRig.V2), TestRig.V2);
        rig.sim.bootloader().write(new BootSettings(2, false, 0));

        // The user's own files fill the boot partition until less than 512 KiB would stay free after the update.
        long free = new BootDirectory(rig.sim.bootDir(), () -> rig.sim.config().bootSizeBytes()).freeBytes();
        Path filler = rig.sim.bootDir().resolve("user-logs.bin");
        Files.write(filler, new byte[(int) (free - 400 * 1024)]);
        refused(rig, "not enough space on the boot partition", rig.ref(TestRig.V2), TestRig.V2);
        Files.delete(filler);

        // and the device still updates once its settings are sound
        assertEquals(io.hupd.machine.UpdateState.REBOOTING, rig.update(TestRig.V2));
    }
}
