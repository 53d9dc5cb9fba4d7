package io.hupd.adapters.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.health.HealthCheck.Result;
import io.hupd.health.HealthCheck;
import io.hupd.health.HealthCheckRunner;
import io.hupd.health.HealthPolicy;
import io.hupd.health.HealthVerdict;
import io.hupd.ports.Clock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SimHealthChecks on real ext4 root images (named Ext4* so the image-backed tests run as one group). */
class Ext4RootHealthChecksTest {
    private static final long SIZE = 8 * 1024 * 1024;

    @TempDir
    Path dir;

    Path run;
    int images;

    interface Breakage {
        void apply(Path tree) throws IOException;
    }

    @BeforeEach
    void supervisorRunning() throws IOException {
        run = Files.createDirectories(dir.resolve("run"));
        Files.writeString(run.resolve("supervisor"), "running\n");
    }

    /** A healthy OS tree with one breakage applied, as an ext4 root image. */
    Ext4Image root(Breakage breakage) throws IOException {
        Path tree = dir.resolve("tree" + images);
        Files.createDirectories(tree.resolve("usr/bin"));
        Files.createDirectories(tree.resolve("usr/sbin"));
        Files.writeString(tree.resolve("usr/bin/balena-engine"), "#!/bin/sh\necho engine\n");
        Files.writeString(tree.resolve("usr/sbin/openvpn"), "#!/bin/sh\necho vpn\n");
        breakage.apply(tree);
        Ext4Image img = new Ext4Image(dir.resolve("root" + images++ + ".img"));
        img.format(tree, "resin-rootB", SIZE);
        return img;
    }

    static Result run(List<HealthCheck> checks, String name) throws Exception {
        for (HealthCheck c : checks) {
            if (c.name().equals(name)) {
                return c.run();
            }
        }
        throw new AssertionError("no check " + name);
    }

    Result engine(Breakage b) throws Exception {
        return run(SimHealthChecks.forBootedRoot(root(b), run, false), "engine");
    }

    static void assertFails(String output, Result r) {
        assertFalse(r.passed(), r.output());
        assertEquals(output, r.output());
    }

    @Test
    void aHealthyRootPassesEverything() throws Exception {
        List<HealthCheck> checks = SimHealthChecks.forBootedRoot(root(t -> { }), run, true);
        assertEquals(List.of("engine", "supervisor", "vpn", "board"), checks.stream().map(HealthCheck::name).toList());
        for (HealthCheck c : checks) {
            assertEquals(HealthCheck.Kind.REQUIRED, c.kind());
            Result r = c.run();
            assertTrue(r.passed(), c.name() + ": " + r.output());
        }
        assertEquals("/usr/bin/balena-engine is present (22 bytes)", run(checks, "engine").output());
        assertEquals("supervisor is running", run(checks, "supervisor").output());
    }

    @Test
    void vpnIsOnlyCheckedWhenItWasOnlineBefore() throws Exception {
        Ext4Image img = root(t -> Files.delete(t.resolve("usr/sbin/openvpn")));
        List<HealthCheck> offline = SimHealthChecks.forBootedRoot(img, run, false);
        assertEquals(List.of("engine", "supervisor", "board"), offline.stream().map(HealthCheck::name).toList());
        assertFails("/usr/sbin/openvpn is missing", run(SimHealthChecks.forBootedRoot(img, run, true), "vpn"));
    }

    @Test
    void vpnLinkedToDevNullFails() throws Exception {
        Ext4Image img = root(t -> {
            Files.delete(t.resolve("usr/sbin/openvpn"));
            Files.createSymbolicLink(t.resolve("usr/sbin/openvpn"), Path.of("/dev/null"));
        });
        assertFails("/usr/sbin/openvpn is a symlink to /dev/null",
                run(SimHealthChecks.forBootedRoot(img, run, true), "vpn"));
    }

    @Test
    void engineMissing() throws Exception {
        assertFails("/usr/bin/balena-engine is missing", engine(t -> Files.delete(t.resolve("usr/bin/balena-engine"))));
    }

    @Test
    void engineEmpty() throws Exception {
        assertFails("/usr/bin/balena-engine is empty",
                engine(t -> Files.write(t.resolve("usr/bin/balena-engine"), new byte[0])));
    }

    @Test
    void engineLinkedToDevNull() throws Exception {
        assertFails("/usr/bin/balena-engine is a symlink to /dev/null", engine(t -> linkEngine(t, "/dev/null")));
    }

    @Test
    void engineLinkedToDevNullInRoundaboutWays() throws Exception {
        assertFails("/usr/bin/balena-engine is a symlink to ../../dev/./null",
                engine(t -> linkEngine(t, "../../dev/./null")));
        assertFails("/usr/bin/balena-engine is a symlink to balena -> /dev/null", engine(t -> {
            linkEngine(t, "balena");
            Files.createSymbolicLink(t.resolve("usr/bin/balena"), Path.of("/dev/null"));
        }));
    }

    @Test
    void engineLinkIsFollowedInsideTheImage() throws Exception {
        Result ok = engine(t -> {
            Files.createDirectories(t.resolve("usr/lib/balena"));
            Files.writeString(t.resolve("usr/lib/balena/engine"), "binary");
            linkEngine(t, "../lib/balena/engine");
        });
        assertTrue(ok.passed(), ok.output());
        assertEquals("/usr/bin/balena-engine is a symlink to ../lib/balena/engine, which is present (6 bytes)",
                ok.output());

        assertFails("/usr/bin/balena-engine is a symlink to /opt/engine, which is empty", engine(t -> {
            Files.createDirectories(t.resolve("opt"));
            Files.createFile(t.resolve("opt/engine"));
            linkEngine(t, "/opt/engine");
        }));
        assertFails("/usr/bin/balena-engine is a symlink to balena, which is missing",
                engine(t -> linkEngine(t, "balena")));
        assertFails("/usr/bin/balena-engine is a symlink to /usr, which is a directory, not a program",
                engine(t -> linkEngine(t, "/usr")));
    }

    @Test
    void linksThroughALinkedFolderResolveAsTheKernelWould() throws Exception {
        // /usr/bin -> ../bin; then "../opt/engine" from /usr/bin means /opt/engine, not /usr/opt/engine.
        Result r = engine(t -> {
            Files.delete(t.resolve("usr/bin/balena-engine"));
            Files.delete(t.resolve("usr/bin"));
            Files.createDirectories(t.resolve("bin"));
            Files.createSymbolicLink(t.resolve("usr/bin"), Path.of("../bin"));
            Files.createDirectories(t.resolve("opt"));
            Files.writeString(t.resolve("opt/engine"), "e");
            Files.createSymbolicLink(t.resolve("bin/balena-engine"), Path.of("../opt/engine"));
        });
        assertTrue(r.passed(), r.output());
    }

    @Test
    void linkCyclesStopAfterEightLevels() throws Exception {
        Result r = engine(t -> {
            linkEngine(t, "a");
            Files.createSymbolicLink(t.resolve("usr/bin/a"), Path.of("b"));
            Files.createSymbolicLink(t.resolve("usr/bin/b"), Path.of("a"));
        });
        assertFalse(r.passed());
        assertEquals("/usr/bin/balena-engine is a symlink to a -> b -> a -> b -> a -> b -> a -> b, which is a "
                + "symlink again (more than 8 levels of symlinks)", r.output());
    }

    @Test
    void supervisorMustSayRunning() throws Exception {
        List<HealthCheck> checks = SimHealthChecks.forBootedRoot(root(t -> { }), run, false);
        Files.writeString(run.resolve("supervisor"), "  running \n");
        assertTrue(run(checks, "supervisor").passed());
        Files.writeString(run.resolve("supervisor"), "stopped\n");
        assertFails("supervisor is not running (run/supervisor says \"stopped\")", run(checks, "supervisor"));
        Files.writeString(run.resolve("supervisor"), "");
        assertFails("supervisor is not running (run/supervisor says nothing)", run(checks, "supervisor"));
        Files.delete(run.resolve("supervisor"));
        assertFails("supervisor is not running (no run/supervisor)", run(checks, "supervisor"));
    }

    @Test
    void boardCheck() throws Exception {
        Path board = Path.of("usr/bin/rollback-board-healthcheck");
        Result absent = run(SimHealthChecks.forBootedRoot(root(t -> { }), run, false), "board");
        assertTrue(absent.passed());
        assertEquals("/usr/bin/rollback-board-healthcheck is missing (nothing to check)", absent.output());

        Result fine = run(SimHealthChecks.forBootedRoot(
                root(t -> Files.writeString(t.resolve(board), "#!/bin/sh\n# failure-free\nexit 0\n")), run, false),
                "board");
        assertTrue(fine.passed(), fine.output());

        assertFails("/usr/bin/rollback-board-healthcheck reports failure: echo FAIL; exit 1",
                run(SimHealthChecks.forBootedRoot(
                        root(t -> Files.writeString(t.resolve(board), "#!/bin/sh\necho FAIL; exit 1\n")), run, false),
                        "board"));
        assertFails("/usr/bin/rollback-board-healthcheck reports failure: fail", run(SimHealthChecks.forBootedRoot(
                root(t -> {
                    Files.writeString(t.resolve("usr/bin/board-real"), "fail\n");
                    Files.createSymbolicLink(t.resolve(board), Path.of("board-real"));
                }), run, false), "board"));
    }

    @Test
    void anUnreadableRootFailsTheCheckWithAnError() throws Exception {
        Path garbage = dir.resolve("rootB.img");
        Files.write(garbage, new byte[1_000_000]);
        HealthCheck engine = SimHealthChecks.forBootedRoot(new Ext4Image(garbage), run, false).get(0);
        IOException e = assertThrows(IOException.class, engine::run);
        assertTrue(e.getMessage().startsWith("cannot read /usr/bin/balena-engine from rootB.img"), e.getMessage());
    }

    @Test
    void throughTheRunnerABrokenEngineRollsBackWithItsReason() throws Exception {
        Ext4Image img = root(t -> linkEngine(t, "/dev/null"));
        List<String> sleeps = new ArrayList<>();
        Clock fake = new Clock() {
            @Override
            public Instant now() {
                return Instant.EPOCH;
            }

            @Override
            public void sleep(Duration d) {
                sleeps.add(d.toString());
            }
        };
        HealthVerdict v = new HealthCheckRunner(fake,
                new HealthPolicy(Duration.ofSeconds(60), 3, Duration.ofSeconds(60), Duration.ofSeconds(10)),
                line -> { }).run(SimHealthChecks.forBootedRoot(img, run, true));
        assertFalse(v.healthy());
        assertEquals("engine: /usr/bin/balena-engine is a symlink to /dev/null (after 3 tries)", v.reason());
        assertEquals(3, sleeps.size());
    }

    private static void linkEngine(Path tree, String target) throws IOException {
        Files.delete(tree.resolve("usr/bin/balena-engine"));
        Files.createSymbolicLink(tree.resolve("usr/bin/balena-engine"), Path.of(target));
    }
}
