package io.hupd.adapters.hw;

import static org.junit.jupiter.api.Assertions.*;
import io.hupd.health.HealthCheck;
import io.hupd.health.HealthCheckRunner;
import io.hupd.health.HealthPolicy;
import io.hupd.health.HealthVerdict;
import io.hupd.ports.Clock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The folder of executable checks with real programs: exit codes, output, and a hung one killed at its limit. */
class HealthCheckFolderTest {
    @TempDir
    Path dir;

    private Path script(String sub, String name, String body) throws Exception {
        Path p = Files.createDirectories(dir.resolve(sub)).resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    private static HealthCheck named(List<HealthCheck> checks, String name) {
        return checks.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void requiredAndWantedProgramsInNameOrder() throws Exception {
        script("required.d", "20-db", "echo db answers");
        script("required.d", "10-mount", "echo not mounted >&2; exit 3");
        script("wanted.d", "50-metrics", "exit 0");
        Files.writeString(dir.resolve("required.d/.20-db.swp"), "editor leftover");
        List<HealthCheck> checks = HealthCheckFolder.checks(dir);

        assertEquals(List.of("required.d/10-mount", "required.d/20-db", "wanted.d/50-metrics"),
                checks.stream().map(HealthCheck::name).toList());
        assertEquals(HealthCheck.Kind.WANTED, named(checks, "wanted.d/50-metrics").kind());
        HealthCheck.Result mount = named(checks, "required.d/10-mount").run();
        assertFalse(mount.passed());
        assertTrue(mount.output().contains("not mounted") && mount.output().contains("exited with code 3"),
                mount.output());
        HealthCheck.Result db = named(checks, "required.d/20-db").run();
        assertTrue(db.passed());
        assertEquals("db answers", db.output().strip());
    }

    @Test
    void aFileThatIsNotExecutableFailsRatherThanBeingSkipped() throws Exception {
        Path p = script("required.d", "10-check", "exit 0");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
        HealthCheck.Result r = HealthCheckFolder.checks(dir).get(0).run();
        assertFalse(r.passed());
        assertTrue(r.output().contains("not executable"), r.output());
    }

    @Test
    void noFolderMeansNoExtraChecks() throws Exception {
        assertEquals(List.of(), HealthCheckFolder.checks(dir.resolve("absent")));
    }

    @Test
    void aHungProgramFailsAtItsLimitAndIsKilledWithItsChildren() throws Exception {
        Path pids = dir.resolve("pids");
        // The check starts a child and then waits on it forever, as a check blocked on a dead service would.
        script("required.d", "30-hangs", "sleep 600 & echo $! > " + pids + "; echo $$ >> " + pids + "; wait");
        HealthPolicy policy = new HealthPolicy(Duration.ZERO, 1, Duration.ZERO, Duration.ofMillis(500));
        List<String> log = new ArrayList<>();
        long t0 = System.nanoTime();
        HealthVerdict v = new HealthCheckRunner(Clock.SYSTEM, policy, log::add).run(HealthCheckFolder.checks(dir));
        long ms = (System.nanoTime() - t0) / 1_000_000;

        assertFalse(v.healthy());
        assertEquals("required.d/30-hangs", v.failedCheck());
        assertTrue(v.output().contains("timed out after 500ms"), v.output());
        assertTrue(ms < 5000, "the verdict came after " + ms + " ms");
        List<Long> started = Files.readAllLines(pids).stream().map(String::strip).map(Long::parseLong).toList();
        assertEquals(2, started.size());
        long deadline = System.nanoTime() + 5_000_000_000L;
        for (long pid : started) {
            while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                assertTrue(System.nanoTime() < deadline, "process " + pid + " of the hung check is still running");
                Thread.sleep(20);
            }
        }
    }
}
