package io.hupd.it;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.testkit.TestRig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The promise, tested on the real program: the packaged {@code hupd update} process is killed with SIGKILL at
 * random moments, then the device is powered on until it settles. Every time it must run v1 or v2 (never
 * neither), and {@code hupd status} must agree with the boot settings and the breadcrumbs on disk.
 */
class KillDuringUpdateIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int RUNS = Integer.getInteger("hupd.killRuns", 10);

    @TempDir
    Path tmp;

    private static Path jar() {
        Path jar = Path.of(System.getProperty("hupd.jar", "target/hupd.jar"));
        assertTrue(Files.isRegularFile(jar), "the packaged jar is missing: " + jar + " (run mvn verify)");
        return jar;
    }

    private static Process start(Path log, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar().toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static int runToEnd(Path log, String... args) throws Exception {
        Process p = start(log, args);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "hupd " + String.join(" ", args) + " hung");
        return p.exitValue();
    }

    @Test
    void killedAtRandomMomentsTheDeviceEndsOnV1OrV2AndStatusTellsTheTruth() throws Exception {
        TestRig template = TestRig.create(tmp.resolve("template"), "uboot");
        String ref = template.ref(TestRig.V2);
        // How long an undisturbed update takes, so that the kills land all over it.
        Path dev0 = copyDevice(template.deviceDir, tmp.resolve("timing"));
        long t0 = System.nanoTime();
        assertEquals(0, runToEnd(tmp.resolve("timing.log"), "update", "--device", dev0.toString(),
                "--target-version", TestRig.V2, "--image", ref));
        long full = (System.nanoTime() - t0) / 1_000_000;

        Random random = new Random(20261129L);
        java.util.Map<String, Integer> endings = new java.util.TreeMap<>();
        for (int i = 0; i < RUNS; i++) {
            Path dev = copyDevice(template.deviceDir, tmp.resolve("run" + i));
            Path log = tmp.resolve("run" + i + ".log");
            Process update = start(log, "update", "--device", dev.toString(), "--target-version", TestRig.V2,
                    "--image", ref);
            long delay = (long) (random.nextDouble() * full * 1.1);
            boolean finished = update.waitFor(delay, TimeUnit.MILLISECONDS);
            if (!finished) {
                update.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
                update.waitFor(30, TimeUnit.SECONDS);
            }
            Path bootLog = tmp.resolve("boot" + i + ".log");
            int code = runToEnd(bootLog, "boot", "--device", dev.toString(), "--until-settled", "--json");
            String out = Files.readString(bootLog, StandardCharsets.UTF_8);
            assertEquals(0, code, "boot --until-settled after a kill at " + delay + " ms:\n" + out);
            JsonNode status = JSON.readTree(out.substring(out.indexOf('{')));
            String running = status.get("runningVersion").asText();
            String context = "kill at " + delay + " ms of " + full + " (finished=" + finished + "): " + status;
            assertTrue(running.equals(TestRig.V1) || running.equals(TestRig.V2), context);
            // status agrees with the ground truth
            String slot = status.get("activeSlot").asText();
            assertEquals(slot.equals("A") ? "2" : "3", status.get("bootloader").get("resin_root_part").asText(), context);
            assertEquals("0", status.get("bootloader").get("upgrade_available").asText(), context);
            assertEquals(0, status.get("breadcrumbs").size(), context);
            assertTrue(status.get("supervisor").get("running").asBoolean(), context);
            String state = status.get("state").asText();
            if (running.equals(TestRig.V2)) {
                assertEquals("COMMITTED", state, context);
            } else {
                // ROLLED_BACK_ALTBOOT: the kill fell inside the switch, after the new settings reached their
                // side file but before they replaced the real one. The firmware read the old settings and booted
                // the old root; completing the interrupted write at boot then shows a switched device running
                // its old root, which is what an altboot is, and is put back the same way.
                assertTrue(state.equals("FAILED") || state.equals("IDLE") || state.equals("ROLLED_BACK_ALTBOOT"),
                        context);
            }
            endings.merge(running + " " + state, 1, Integer::sum);
            assertEquals("user data\n", Files.readString(dev.resolve("data/user/notes.txt")), context);
        }
        System.out.println("kill -9 runs: " + RUNS + ", endings: " + endings);
    }

    private static Path copyDevice(Path from, Path to) throws Exception {
        Process p = new ProcessBuilder("cp", "-a", from.toString(), to.toString()).inheritIO().start();
        assertEquals(0, p.waitFor());
        return to;
    }

}
