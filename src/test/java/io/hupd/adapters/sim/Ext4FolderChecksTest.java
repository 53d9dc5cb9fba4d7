package io.hupd.adapters.sim;

import static org.junit.jupiter.api.Assertions.*;
import io.hupd.health.HealthCheck;
import io.hupd.health.HealthCheckRunner;
import io.hupd.health.HealthPolicy;
import io.hupd.health.HealthVerdict;
import io.hupd.ports.Clock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The folder of extra checks on the simulated device, read from a real ext4 root image. */
class Ext4FolderChecksTest {
    @TempDir
    Path dir;

    private Ext4Image root(Map<String, String> files) throws Exception {
        Path tree = dir.resolve("tree");
        Files.createDirectories(tree.resolve("usr/bin"));
        Files.writeString(tree.resolve("usr/bin/balena-engine"), "#!/bin/sh\n");
        for (var e : files.entrySet()) {
            Path p = tree.resolve("etc/hupd/health.d").resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, e.getValue());
        }
        Files.createDirectories(tree.resolve("etc/hupd/health.d/required.d"));
        Ext4Image img = new Ext4Image(dir.resolve("root.img"));
        img.format(tree, "resin-rootB", 8 << 20);
        return img;
    }

    @Test
    void eachFileStatesItsResult() throws Exception {
        Map<String, String> files = new TreeMap<>();
        files.put("required.d/10-pass", "pass\n");
        files.put("required.d/20-pass-msg", "#!/bin/sh\n# checks the data mount\n\npass: /mnt/data mounted\n");
        files.put("required.d/30-fail", "fail: the app socket refused the connection\nmore detail\n");
        files.put("required.d/40-odd name", "fail\n");
        files.put("required.d/50-garbage", "passing, probably\n");
        files.put("required.d/60-empty", "");
        files.put("required.d/.70-hidden", "fail\n");
        files.put("wanted.d/10-metrics", "fail: metrics endpoint slow\n");
        Ext4Image img = root(files);
        List<HealthCheck> checks = SimHealthChecks.folderChecks(img);
        assertEquals(List.of("required.d/10-pass", "required.d/20-pass-msg", "required.d/30-fail",
                "required.d/40-odd name", "required.d/50-garbage", "required.d/60-empty", "wanted.d/10-metrics"),
                checks.stream().map(HealthCheck::name).toList());
        Map<String, HealthCheck.Result> r = new TreeMap<>();
        for (HealthCheck c : checks) {
            r.put(c.name(), c.run());
        }
        assertTrue(r.get("required.d/10-pass").passed());
        assertEquals("/mnt/data mounted", r.get("required.d/20-pass-msg").output());
        assertTrue(r.get("required.d/20-pass-msg").passed());
        assertFalse(r.get("required.d/30-fail").passed());
        assertEquals("the app socket refused the connection", r.get("required.d/30-fail").output());
        assertFalse(r.get("required.d/40-odd name").passed());
        assertFalse(r.get("required.d/50-garbage").passed());
        assertTrue(r.get("required.d/50-garbage").output().contains("does not follow"), r.toString());
        assertFalse(r.get("required.d/60-empty").passed());
        assertEquals(HealthCheck.Kind.WANTED, checks.get(6).kind());
        assertEquals(HealthCheck.Kind.REQUIRED, checks.get(0).kind());
    }

    @Test
    void aHungCheckFailsAtItsLimitAndAWantedOneDoesNotDecide() throws Exception {
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.writeString(run.resolve("supervisor"), "running\n");
        Ext4Image img = root(Map.of("required.d/10-ok", "pass\n", "wanted.d/50-slow", "hang\n"));
        HealthPolicy policy = new HealthPolicy(Duration.ZERO, 2, Duration.ofMillis(10), Duration.ofMillis(400));
        List<String> log = new ArrayList<>();
        HealthVerdict v = new HealthCheckRunner(Clock.SYSTEM, policy, log::add)
                .run(SimHealthChecks.forBootedRoot(img, run, false));
        assertTrue(v.healthy(), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("wanted.d/50-slow (wanted, ignored) failed: timed out")),
                log.toString());
    }

    @Test
    void noFolderMeansOnlyTheBuiltInChecks() throws Exception {
        Path tree = Files.createDirectories(dir.resolve("bare"));
        Files.writeString(tree.resolve("x"), "x");
        Ext4Image img = new Ext4Image(dir.resolve("bare.img"));
        img.format(tree, "resin-rootB", 8 << 20);
        assertEquals(List.of(), SimHealthChecks.folderChecks(img));
        assertEquals(List.of("engine", "supervisor", "board"), SimHealthChecks.forBootedRoot(img, dir, false).stream()
                .map(HealthCheck::name).toList());
    }
}
