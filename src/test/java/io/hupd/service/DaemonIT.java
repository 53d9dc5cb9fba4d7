package io.hupd.service;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.testkit.TestRig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hupd daemon} as a process of its own, started through the launcher, and {@code hupd update} / {@code
 * abort} through the launcher with and without it: the same lines and exit codes, the socket owner-only, and a
 * client of another uid refused (by the folder's mode, and by the SO_PEERCRED check when the folder is opened).
 */
class DaemonIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path LAUNCHER = Path.of("hupd").toAbsolutePath();

    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {}

    private Run hupd(List<String> prefix, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(LAUNCHER.toString());
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "hupd " + String.join(" ", args) + " hung");
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private Run hupd(String... args) throws Exception {
        return hupd(List.of(), args);
    }

    private Run asNobody(String... args) throws Exception {
        return hupd(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"), args);
    }

    /** One request line, all the event lines back. */
    private static List<JsonNode> ask(Path socket, String request) throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            Channels.newOutputStream(ch).write((request + "\n").getBytes(StandardCharsets.UTF_8));
            BufferedReader r = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch),
                    StandardCharsets.UTF_8));
            List<JsonNode> events = new ArrayList<>();
            for (String line; (line = r.readLine()) != null; ) {
                events.add(JSON.readTree(line));
            }
            return events;
        }
    }

    @Test
    void updateAndAbortGoThroughARunningDaemonWithTheSameLinesAndCodesAndOnlyRootMayStartOne() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        String ref = rig.ref(TestRig.V2);
        String dev = rig.deviceDir.toString();

        // Without a daemon, as before: the same device copied, updated in the command's own process.
        TestRig alone = rig.copy(tmp.resolve("alone"));
        Run direct = hupd("update", "--device", alone.deviceDir.toString(), "--target-version", TestRig.V2,
                "--image", ref);
        assertEquals(0, direct.code(), direct.err());

        Path config = tmp.resolve("hupd.json");
        Files.writeString(config, "{\n  // any free port for the status page\n  \"statusPort\": 0\n}\n");
        Path daemonLog = tmp.resolve("daemon.log");
        Process daemon = new ProcessBuilder(LAUNCHER.toString(), "daemon", "--device", dev, "--config",
                config.toString()).redirectErrorStream(true).redirectOutput(daemonLog.toFile()).start();
        Path socket = rig.deviceDir.resolve("run/hupd/hupd.sock");
        try {
            for (int i = 0; i < 600 && !Files.readString(daemonLog).contains("listening on"); i++) {
                assertTrue(daemon.isAlive(), "the daemon ended: " + Files.readString(daemonLog));
                Thread.sleep(100);
            }
            assertTrue(Files.readString(daemonLog).contains("listening on " + socket), Files.readString(daemonLog));
            assertTrue(Files.readString(daemonLog).contains("status page http://127.0.0.1:"));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            assertEquals("rwx------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(socket.getParent())));

            // A second daemon on the same device is refused with the lock's exit code.
            Run second = hupd("daemon", "--device", dev, "--config", config.toString());
            assertEquals(9, second.code(), second.out() + second.err());
            assertTrue(second.err().startsWith("hupd: a hupd daemon already answers on"), second.err());

            Run viaDaemon = hupd("update", "--device", dev, "--target-version", TestRig.V2, "--image", ref);
            assertEquals(0, viaDaemon.code(), viaDaemon.err());
            assertTrue(Files.readString(daemonLog).contains("update to " + TestRig.V2 + " requested by root"),
                    "the update did not go through the daemon: " + Files.readString(daemonLog));
            assertEquals(lastLine(direct.out()), lastLine(viaDaemon.out()));
            assertEquals(stateLines(direct.out()), stateLines(viaDaemon.out()));
            assertTrue(viaDaemon.out().contains("[SWITCHING_BOOT] boot settings switched to slot B"),
                    viaDaemon.out());

            // Past the commit point an abort is refused, through the daemon as without it.
            Run abort = hupd("abort", "--device", dev);
            assertEquals(1, abort.code());
            assertTrue(abort.err().startsWith("hupd: the update to " + TestRig.V2 + " has passed its commit point"),
                    abort.err());
            assertTrue(Files.readString(daemonLog).contains("abort requested by root"));

            // Read-only requests on the raw protocol.
            List<JsonNode> status = ask(socket, "{\"op\":\"status\"}");
            assertEquals("REBOOTING", status.get(0).get("status").get("state").asText(), status.toString());
            assertEquals(0, status.get(status.size() - 1).get("exit").asInt());
            List<JsonNode> follow = ask(socket, "{\"op\":\"follow\"}");
            assertTrue(follow.get(0).get("idle").asBoolean(), follow.toString());
            List<JsonNode> unknown = ask(socket, "{\"op\":\"reformat\"}");
            assertEquals(2, unknown.get(unknown.size() - 1).get("exit").asInt());

            // Another uid: the 0700 folder keeps it out before it reaches the daemon.
            String before = hupd("status", "--device", dev, "--json").out();
            Run nobody = asNobody("abort", "--device", dev);
            assertEquals(1, nobody.code(), nobody.out() + nobody.err());
            assertTrue(nobody.err().startsWith("hupd: the daemon's socket " + socket + " is not open to this user"),
                    nobody.err());
            // With the folder and socket opened (a mistake), the daemon's own peer check still refuses it.
            Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            Run nobodyUpdate = asNobody("update", "--device", dev, "--target-version", TestRig.V2, "--image", ref);
            assertEquals(1, nobodyUpdate.code(), nobodyUpdate.out() + nobodyUpdate.err());
            assertEquals("hupd: only root (or the daemon's own user) may start or abort an update; this request came"
                    + " from nobody\n", nobodyUpdate.err());
            Run nobodyAbort = asNobody("abort", "--device", dev);
            assertEquals(1, nobodyAbort.code());
            assertTrue(nobodyAbort.err().startsWith("hupd: only root"), nobodyAbort.err());
            assertTrue(Files.readString(daemonLog).contains("refused update from nobody"));
            assertEquals(before, hupd("status", "--device", dev, "--json").out(), "a refused request changed the device");
        } finally {
            daemon.destroy(); // SIGTERM: the shutdown hook closes the socket and removes its file
            assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "the daemon did not stop on SIGTERM");
        }
        assertFalse(Files.exists(socket), "the daemon left its socket behind");

        // With the daemon gone, the commands work on their own again.
        Run boot = hupd("boot", "--device", dev, "--until-settled", "--json");
        assertEquals(0, boot.code(), boot.err());
        assertEquals(TestRig.V2, JSON.readTree(boot.out().substring(boot.out().indexOf('{')))
                .get("runningVersion").asText());
        Run noDaemonAbort = hupd("abort", "--device", dev);
        assertEquals(1, noDaemonAbort.code());
        assertTrue(noDaemonAbort.err().startsWith("hupd: no update is in flight"), noDaemonAbort.err());
    }

    private static String lastLine(String out) {
        String[] lines = out.strip().split("\n");
        return lines[lines.length - 1];
    }

    /** The transitions an update printed, without the update id and timing that differ between two runs. */
    private static List<String> stateLines(String out) {
        List<String> l = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (line.matches("\\[[A-Z_]+\\] [A-Z_]+ -> [A-Z_]+ on [A-Z_]+.*")) {
                l.add(line.replaceAll(": .*", ""));
            }
        }
        assertFalse(l.isEmpty(), "no transitions in:\n" + out);
        return l;
    }
}
