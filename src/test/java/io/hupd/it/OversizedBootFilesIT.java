package io.hupd.it;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.hupd.testkit.Launcher;
import io.hupd.testkit.TestRig;
import io.hupd.testkit.TreeSnapshot;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18 finding 5 through the launcher's 64 MiB heap: a 30 MB bootloader settings file (it fits a boot
 * partition) used to be an OutOfMemoryError with a stack trace on status, update and boot. Now update refuses in
 * one line, status reports the unreadable settings, and a power-on does what the firmware does with settings it
 * cannot read (falls back and boots the old root); none of them changes the device.
 */
class OversizedBootFilesIT {
    private static final int THIRTY_MB = 30_000_000;

    @TempDir
    Path tmp;

    private static Map<String, String> device(TestRig rig) throws Exception {
        Map<String, String> m = new TreeMap<>();
        for (String part : new String[] {"boot", "state", "data/user"}) {
            if (Files.isDirectory(rig.deviceDir.resolve(part))) {
                TreeSnapshot.of(rig.deviceDir.resolve(part)).forEach((k, v) -> m.put(part + "/" + k, v));
            }
        }
        for (String img : new String[] {"rootA.img", "rootB.img"}) {
            m.put(img, TreeSnapshot.sha256(Files.readAllBytes(rig.deviceDir.resolve(img))));
        }
        return m;
    }

    /** The settings as they were, then 30 MB of padding: what a full boot partition or a hostile shell leaves. */
    private static void inflate(Path settings) throws Exception {
        byte[] padding = new byte[1 << 20];
        Arrays.fill(padding, (byte) '#');
        try (OutputStream out = Files.newOutputStream(settings, java.nio.file.StandardOpenOption.APPEND)) {
            out.write('\n');
            for (int written = 0; written < THIRTY_MB; written += padding.length) {
                out.write(padding);
            }
        }
        assertTrue(Files.size(settings) > THIRTY_MB);
    }

    @ParameterizedTest
    @CsvSource({"uboot, resinOS_uEnv.txt", "grub, EFI/BOOT/grubenv"})
    void aThirtyMegabyteSettingsFileIsOneLineAndChangesNothing(String bootloader, String file) throws Exception {
        TestRig rig = TestRig.create(tmp, bootloader);
        Path settings = rig.sim.bootDir().resolve(file);
        if (!Files.exists(settings)) {
            settings = rig.sim.bootDir().resolve("grub/grubenv");
        }
        assertTrue(Files.isRegularFile(settings), "the rig's " + bootloader + " settings: " + settings);
        inflate(settings);
        Launcher hupd = new Launcher(Files.createDirectories(tmp.resolve("logs")));
        String dev = rig.deviceDir.toString();
        Map<String, String> before = device(rig);
        String tooLarge = settings + " is " + Files.size(settings) + " bytes, more than the 1048576 bytes hupd"
                + " reads from it";

        Launcher.Run update = hupd.run("update", "--device", dev, "--target-version", TestRig.V2, "--image",
                rig.ref(TestRig.V2));
        String line = update.oneLineError(1);
        assertTrue(line.contains("the boot settings cannot be read: " + tooLarge), line);
        assertEquals(before, device(rig), "the refused update changed nothing");

        Launcher.Run status = hupd.run("status", "--device", dev, "--json").ok();
        JsonNode s = status.json();
        assertTrue(s.path("bootloader").path("error").asText().startsWith(tooLarge), status.out());
        assertEquals(TestRig.V1, s.path("runningVersion").asText(), status.out());

        Launcher.Run boot = hupd.run("boot", "--device", dev, "--until-settled", "--json").ok();
        assertEquals(TestRig.V1, boot.json().path("runningVersion").asText(), boot.out());
        assertEquals("A", boot.json().path("activeSlot").asText(), boot.out());
        assertTrue(boot.json().path("supervisor").path("running").asBoolean(), boot.out());
        assertEquals(before, device(rig), "the power-on changed nothing on the device");
    }
}
