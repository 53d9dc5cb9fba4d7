package io.hupd.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hupd demo}, as the README's first command runs it. */
class DemoTest {
    @TempDir
    Path tmp;

    @Test
    void theDemoTellsItsThreeStoriesAndEndsOnV2() throws Exception {
        io.hupd.testkit.Cli.Run r = io.hupd.testkit.Cli.hupd("demo", "--dir", tmp.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("=> exit 1") && r.out().contains("signature check failed: the image sha256:"),
                r.out());
        assertTrue(r.out().contains("=> COMMITTED, running 2.114.0"), r.out());
        assertTrue(r.out().contains("=> ROLLED_BACK_HEALTH, running 2.114.0"), r.out());
        assertTrue(r.out().contains("=> ROLLED_BACK_ALTBOOT, running 2.114.0"), r.out());
        assertTrue(r.out().contains("=> COMMITTED, running 2.117.0"), r.out());
        assertTrue(r.out().contains("=> COMMITTED, running 2.118.0"), r.out());
        assertTrue(r.out().contains("demo finished: every story ended as it should"), r.out());
        io.hupd.testkit.Cli.Run again = io.hupd.testkit.Cli.hupd("demo", "--dir", tmp.toString());
        assertEquals(1, again.code());
        assertTrue(again.err().contains("already holds a demo device"), again.err());
        try (var logs = Files.list(tmp.resolve("device/data/balenahup"))) {
            assertEquals(6, logs.count(), "one log file per update: the refused unsigned one and five stories");
        }
        io.hupd.testkit.Cli.Run history = io.hupd.testkit.Cli.hupd("history", "--device", tmp.resolve("device").toString());
        assertEquals(0, history.code());
        assertTrue(history.out().contains("ROLLING_BACK_ALTBOOT"), history.out());
    }
}
