package io.hupd.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.hupd.machine.UpdateState;
import io.hupd.ports.BootSettings;
import io.hupd.testkit.Cli;
import io.hupd.testkit.TestRig;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18 finding 4: the new slot damaged after the update (its /boot directory block zeroed, so the kernel
 * cannot be read) is a root that does not boot, as a missing kernel is: one {@code hupd boot --until-settled}
 * resets, falls back and rolls back.
 */
class CorruptSpareSlotTest {
    @TempDir
    Path tmp;

    @Test
    void aSpareSlotWhoseKernelCannotBeReadRollsBackInOneBootCommand() throws Exception {
        TestRig rig = TestRig.create(tmp, "uboot");
        assertEquals(UpdateState.REBOOTING, rig.update(TestRig.V2));
        String spare = rig.ports().slots().activeSlot().equals("A") ? "B" : "A";
        Path slot = rig.deviceDir.resolve("root" + spare + ".img");
        zeroBlock(slot, firstBlockOf(slot, "/boot"), blockSize(slot));

        Cli.Run boot = Cli.hupd("boot", "--device", rig.deviceDir.toString(), "--until-settled");
        assertEquals(0, boot.code(), boot.out() + boot.err());
        assertTrue(boot.out().contains("does not boot"), boot.out());
        assertEquals("ROLLED_BACK_ALTBOOT", rig.state());
        assertEquals(TestRig.V1, rig.runningVersion());
        assertEquals(new BootSettings(rig.ports().slots().partitionOf(rig.sim.bootedSlot()), false, 0),
                rig.sim.bootloader().read());
        assertEquals(List.of(), rig.sim.state().breadcrumbs());
        assertTrue(rig.ports().supervisor().isRunning());

        Cli.Run status = Cli.hupd("status", "--device", rig.deviceDir.toString(), "--json");
        assertEquals(0, status.code(), status.err());
        JsonNode s = status.status();
        assertEquals("ROLLED_BACK_ALTBOOT", s.path("state").asText(), status.out());
        assertTrue(status.out().contains(TestRig.V1), status.out());
    }

    private static long firstBlockOf(Path image, String path) throws Exception {
        Process p = new ProcessBuilder("debugfs", "-R", "blocks " + path, image.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.getErrorStream().readAllBytes();
        assertEquals(0, p.waitFor());
        Matcher m = Pattern.compile("(\\d+)").matcher(out);
        assertTrue(m.find(), "debugfs printed no block for " + path + ": " + out);
        return Long.parseLong(m.group(1));
    }

    private static int blockSize(Path image) throws Exception {
        Process p = new ProcessBuilder("debugfs", "-R", "stats", image.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.getErrorStream().readAllBytes();
        assertEquals(0, p.waitFor());
        Matcher m = Pattern.compile("Block size:\\s+(\\d+)").matcher(out);
        assertTrue(m.find(), out);
        return Integer.parseInt(m.group(1));
    }

    private static void zeroBlock(Path image, long block, int size) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.seek(block * size);
            f.write(new byte[size]);
        }
    }
}
