package io.hupd.it;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.testkit.Launcher;
import io.hupd.testkit.Launcher.Run;
import io.hupd.testkit.TestRig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command and subcommand of ../shared/design/CLI.md through {@code ./hupd} as a user runs it (the launcher's
 * own JVM flags: 64 MiB heap, SerialGC, no HUPD_JVM_FLAGS), each with good input on a simulated device and with
 * one bad input: the exit codes of CLI.md and, for the bad input, one line on stderr that starts with
 * {@code hupd: } (issue 18 findings 6 and 9). The tests run the commands in-process with Maven's heap; this is
 * where the launcher's memory and encoding are what a device has.
 */
class LauncherSmokeIT {
    private static final String BIG_V1 = "3.0.0";
    private static final String BIG_V2 = "3.0.1";

    @TempDir
    static Path shared;
    static TestRig rig;
    static Launcher hupd;
    /** Two images of 24 MiB of incompressible firmware, 1 MiB apart: what a delta is for. */
    static String big1;
    static String big2;

    @TempDir
    Path tmp;

    @BeforeAll
    static void images() throws Exception {
        rig = TestRig.create(shared.resolve("rig"), "uboot");
        hupd = new Launcher(Files.createDirectories(shared.resolve("logs")));
        Path r1 = shared.resolve("big1");
        Path r2 = shared.resolve("big2");
        copy(rig.root.resolve("src/rootfs-" + TestRig.V1), r1);
        byte[] firmware = new byte[24 << 20];
        new Random(18).nextBytes(firmware);
        Files.write(Files.createDirectories(r1.resolve("lib/firmware")).resolve("blob.bin"), firmware);
        copy(r1, r2);
        byte[] changed = new byte[1 << 20];
        new Random(19).nextBytes(changed);
        System.arraycopy(changed, 0, firmware, 8 << 20, changed.length);
        Files.write(r2.resolve("lib/firmware/blob.bin"), firmware);
        Path layout = shared.resolve("big-images");
        big1 = "oci:" + layout + ":" + BIG_V1;
        big2 = "oci:" + layout + ":" + BIG_V2;
        hupd.run("image", "create", "--rootfs", r1.toString(), "--version", BIG_V1, "--device-type", TestRig.TYPE,
                "--output", big1).ok();
        hupd.run("image", "create", "--rootfs", r2.toString(), "--version", BIG_V2, "--device-type", TestRig.TYPE,
                "--output", big2).ok();
    }

    private static void copy(Path from, Path to) throws Exception {
        Process p = new ProcessBuilder("cp", "-a", from.toString(), to.toString()).inheritIO().start();
        assertEquals(0, p.waitFor());
    }

    @Test
    void theTopLevel() throws Exception {
        assertTrue(hupd.run("--help").ok().out().contains("delta"));
        assertTrue(hupd.run("--version").ok().out().startsWith("hupd "));
        assertEquals("hupd: a command is required (see 'hupd --help')", hupd.run().oneLineError(2));
        assertTrue(hupd.run("frobnicate").oneLineError(2).contains("'frobnicate'"));
        for (String group : new String[] {"device", "image", "delta"}) {
            assertTrue(hupd.run(group).oneLineError(2).contains("say what"), group);
        }
    }

    @Test
    void deviceCreateAtItsDefaultsAndDeviceCheck() throws Exception {
        Path dir = tmp.resolve("made");
        Run made = hupd.run("device", "create", "--dir", dir.toString(), "--image", rig.ref(TestRig.V1)).ok();
        assertTrue(made.out().contains("root A runs " + TestRig.V1), made.out());
        assertEquals(256L << 20, Files.size(dir.resolve("rootB.img")));
        Path other = tmp.resolve("other");
        assertTrue(hupd.run("device", "create", "--dir", other.toString(), "--image", rig.ref(TestRig.V1),
                "--root-size", "lots").oneLineError(2).contains("'--root-size'"));
        assertFalse(Files.exists(other));

        // a real device: this machine has none described, which is the bad input; the good one is RealDeviceIT's
        Path none = tmp.resolve("no-device.json");
        assertTrue(hupd.run("device", "check", "--device-config", none.toString()).oneLineError(1)
                .contains(none + " does not exist"));
        hupd.run("device", "check", "--help").ok();
    }

    @Test
    void imageKeygenCreateSignAndDeltaCreateOfSeveralMegabytes() throws Exception {
        Path pass = Files.writeString(tmp.resolve("passphrase"), "correct horse\n");
        String prefix = tmp.resolve("release").toString();
        hupd.run("image", "keygen", "--output-prefix", prefix, "--passphrase-file", pass.toString()).ok();
        assertTrue(hupd.run("image", "keygen", "--output-prefix", prefix, "--passphrase-file", pass.toString())
                .oneLineError(1).contains("refusing to overwrite a key"));

        String signed = "oci:" + tmp.resolve("signed") + ":" + TestRig.V2;
        hupd.run("image", "create", "--rootfs", rig.root.resolve("src/rootfs-" + TestRig.V2).toString(), "--version",
                TestRig.V2, "--device-type", TestRig.TYPE, "--output", signed).ok();
        assertTrue(hupd.run("image", "create", "--rootfs", tmp.toString(), "--version", "two", "--device-type",
                TestRig.TYPE, "--output", "oci:" + tmp.resolve("x") + ":t").oneLineError(2).contains("'--version'"));
        hupd.run("image", "sign", "--image", signed, "--key", prefix + ".private", "--passphrase-file",
                pass.toString()).ok();
        assertTrue(hupd.run("image", "sign", "--image", "docker://registry.local/os:1", "--key", prefix + ".private",
                "--passphrase-file", pass.toString()).oneLineError(2).contains("'--image'"));

        // finding 6: this died of OutOfMemoryError in the launcher's 64 MiB heap
        String delta = "oci:" + tmp.resolve("delta") + ":" + BIG_V2 + "-delta-from-" + BIG_V1;
        Run made = hupd.run("delta", "create", "--from", big1, "--to", big2, "--output", delta, "--json").ok();
        long layers = made.json().path("targetCompressedBytes").asLong();
        long patches = made.json().path("patchBytes").asLong();
        assertTrue(layers > 20 << 20, made.out());
        assertTrue(patches > 0 && patches < layers / 4, made.out());
        assertTrue(hupd.run("delta", "create", "--from", "oci:" + tmp.resolve("none") + ":1", "--to", big2,
                "--output", delta).oneLineError(1).contains("does not exist"));
    }

    @Test
    void updateBootRebootCleanShutdownStatusHistoryAndAbort() throws Exception {
        TestRig d = rig.copy(tmp.resolve("d"));
        String dev = d.deviceDir.toString();
        String nowhere = tmp.resolve("nowhere").toString();

        assertEquals(TestRig.V1, hupd.run("status", "--device", dev, "--json").ok().json().path("runningVersion")
                .asText());
        assertTrue(hupd.run("status", "--device", nowhere).oneLineError(1).contains("is not a simulated device"));

        assertTrue(hupd.run("update", "--device", dev, "--target-version", "2.x", "--image", d.ref(TestRig.V2))
                .oneLineError(2).contains("'--target-version'"));
        hupd.run("update", "--device", dev, "--target-version", TestRig.V2, "--image", d.ref(TestRig.V2)).ok();
        assertTrue(hupd.run("abort", "--device", dev).oneLineError(1).contains("has passed its commit point"));

        Run booted = hupd.run("boot", "--device", dev, "--until-settled", "--json").ok();
        assertEquals(TestRig.V2, booted.json().path("runningVersion").asText(), booted.out());
        assertEquals("COMMITTED", booted.json().path("lastResult").asText(), booted.out());
        assertTrue(hupd.run("boot", "--device", nowhere).oneLineError(1).contains("is not a simulated device"));

        assertTrue(hupd.run("reboot", "--device", dev).ok().out().contains("running " + TestRig.V2));
        assertTrue(hupd.run("reboot", "--device", nowhere).oneLineError(1).contains("is not a simulated device"));
        assertTrue(hupd.run("clean-shutdown", "--device", dev).ok().out().contains("clean shutdown"));
        assertTrue(hupd.run("clean-shutdown", "--device", nowhere).oneLineError(1)
                .contains("is not a simulated device"));
        hupd.run("boot", "--device", dev).ok();

        Run history = hupd.run("history", "--device", dev).ok();
        assertTrue(history.out().contains("COMMITTED"), history.out());
        assertTrue(hupd.run("history", "--device", dev, "--frobnicate").oneLineError(2).contains("--frobnicate"));
        assertTrue(hupd.run("abort", "--device", dev).oneLineError(1).contains("nothing to abort"));
    }

    /** An update killed while it writes the slot is in flight before its commit point: abort reverts it. */
    @Test
    void abortRevertsAnUpdateInFlight() throws Exception {
        Path dir = tmp.resolve("abort");
        hupd.run("device", "create", "--dir", dir.toString(), "--image", rig.ref(TestRig.V1)).ok();
        Process update = hupd.start(Map.of(), "update", "--device", dir.toString(), "--target-version", BIG_V1,
                "--image", big1);
        Path out = hupd.out(hupd.last());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.readString(out).contains("[WRITING_ROOTFS]") && update.isAlive()
                && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(update.isAlive(), "the update ended before it was cut: " + Files.readString(out));
        update.destroyForcibly().waitFor();
        assertFalse(Files.readString(out).contains("[SWITCHING_BOOT]"), "cut before the switch: "
                + Files.readString(out));

        Run abort = hupd.run("abort", "--device", dir.toString()).ok();
        assertTrue(abort.out().contains("update reverted"), abort.out());
        Run status = hupd.run("status", "--device", dir.toString(), "--json").ok();
        assertEquals(TestRig.V1, status.json().path("runningVersion").asText(), status.out());
        assertTrue(status.json().path("supervisor").path("running").asBoolean(), status.out());
    }

    @Test
    void diagram() throws Exception {
        assertTrue(hupd.run("diagram").ok().out().contains("SWITCHING_BOOT"));
        Path file = tmp.resolve("machine.dot");
        hupd.run("diagram", "--format", "dot", "--output", file.toString()).ok();
        assertTrue(Files.readString(file).contains("digraph"), Files.readString(file));
        assertTrue(hupd.run("diagram", "--format", "nope").oneLineError(2).contains("unknown diagram format"));
        assertEquals("hupd: cannot write the diagram to /proc/nope/x: /proc/nope: no such file or folder",
                hupd.run("diagram", "--output", "/proc/nope/x").oneLineError(1));
    }

    private static String waitForLine(Process p, Path out, String prefix) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            for (String line : Files.readAllLines(out)) {
                if (line.startsWith(prefix)) {
                    return line;
                }
            }
            assertTrue(p.isAlive(), "ended without '" + prefix + "': " + Files.readString(out));
            Thread.sleep(50);
        }
        throw new AssertionError("no '" + prefix + "' in: " + Files.readString(out));
    }

    @Test
    void serveAndDaemon() throws Exception {
        TestRig d = rig.copy(tmp.resolve("d"));
        String dev = d.deviceDir.toString();
        Process serve = hupd.start(Map.of(), "serve", "--device", dev, "--port", "0");
        try {
            String url = waitForLine(serve, hupd.out(hupd.last()), "hupd serve: ").substring("hupd serve: ".length());
            HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode(), page.body());
        } finally {
            serve.destroy();
            serve.waitFor(30, TimeUnit.SECONDS);
        }
        assertTrue(hupd.run("serve", "--device", dev, "--port", "99999").oneLineError(2).contains("'--port'"));

        Path config = Files.writeString(tmp.resolve("hupd.json"), "{\"statusPort\": 0}\n");
        Process daemon = hupd.start(Map.of(), "daemon", "--device", dev, "--config", config.toString());
        try {
            int daemonRun = hupd.last();
            waitForLine(daemon, hupd.out(daemonRun), "hupd daemon: listening on");
            assertTrue(hupd.run("update", "--device", dev, "--target-version", "2.100.0", "--image",
                    d.ref(TestRig.V1)).oneLineError(1).contains("is not newer"));
            hupd.run("update", "--device", dev, "--target-version", TestRig.V2, "--image", d.ref(TestRig.V2)).ok();
            assertTrue(Files.readString(hupd.out(daemonRun)).contains("update to " + TestRig.V2 + " requested by"),
                    "the update went through the daemon");
        } finally {
            daemon.destroy();
            daemon.waitFor(30, TimeUnit.SECONDS);
        }
        assertTrue(hupd.run("daemon", "--device", dev, "--config", tmp.resolve("none.json").toString())
                .oneLineError(1).contains("no such settings file"));
    }

    @Test
    void demo() throws Exception {
        Path dir = tmp.resolve("demo");
        assertTrue(hupd.run("demo", "--dir", dir.toString()).ok().out().contains("demo finished"));
        assertTrue(hupd.run("demo", "--dir", dir.toString()).oneLineError(1).contains("already holds a demo device"));
    }

    /** Finding 9: under the C locale (systemd, cron, a bare ssh) a non-ASCII argument used to come back as '??'. */
    @Test
    void aNonAsciiVersionIsEchoedAsTypedUnderTheCLocale() throws Exception {
        for (Map<String, String> env : java.util.List.of(Map.of("LC_ALL", "C"), Map.of("LC_ALL", "", "LANG", ""),
                Map.of("LC_ALL", "POSIX"))) {
            String line = hupd.run(env, "update", "--device", rig.deviceDir.toString(), "--target-version", "2.119.é",
                    "--image", rig.ref(TestRig.V2)).oneLineError(2);
            assertTrue(line.contains("'2.119.é' is not a version"), env + ": " + line);
        }
    }
}
