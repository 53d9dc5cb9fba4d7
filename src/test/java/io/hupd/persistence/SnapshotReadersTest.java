package io.hupd.persistence;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.machine.MachineLimits;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateMachine;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readers in another process while an update holds the database: they get the holder's snapshot, and the
 * database itself again once it is free or its holder has died (a snapshot of a dead process is not trusted).
 */
class SnapshotReadersTest {
    @TempDir
    Path tmp;

    /** A second JVM (the test classpath) holding the database in {@code dir} after {@code n} transitions. */
    private static Process holder(Path dir, String updateId, int n) throws Exception {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", cp, HoldingWriter.class.getName(),
                dir.toString(), updateId, String.valueOf(n)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        assertEquals("held", line(p), "the holder did not start");
        return p;
    }

    private static String line(Process p) throws Exception {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }

    /** An earlier update that ended, so that "last result" and "whole journal" differ from the current update's. */
    private static void earlierFailedUpdate(StateStore store) throws Exception {
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        UpdateContext c = UpdateContext.builder()
                .updateId("u-0")
                .targetVersion("2.113.9")
                .images(List.of("oci:x:2.113.9"))
                .build();
        UpdateMachine.Fired f = m.start(c);
        store.record(f, f.to().phase(), m.context(), Instant.now());
        f = m.fire(io.hupd.machine.UpdateEvent.FAILED, "refused");
        store.record(f, f.to().phase(), m.context(), Instant.now());
    }

    @Test
    void whileAnotherProcessHoldsTheDatabaseReadersGetItsSnapshotAndTheDatabaseAfter() throws Exception {
        Path dir = tmp.resolve("hupd");
        StateStore reader = new StateStore(dir);
        earlierFailedUpdate(reader);
        Process p = holder(dir, "u-1", 4);
        try {
            StateStore.View during = reader.read(true);
            assertTrue(during.fromSnapshot(), "the holder has the file; the reader must not have opened it");
            assertEquals(p.pid(), during.holderPid().orElseThrow());
            assertEquals("FETCHING", during.state().orElseThrow().stateName());
            assertEquals("u-1", during.state().orElseThrow().context().updateId());
            assertEquals(4, during.journal().size(), "the current update's journal: " + during.journal());
            assertTrue(during.journal().stream().allMatch(e -> e.updateId().equals("u-1")));
            assertFalse(during.wholeJournal());
            assertEquals("FAILED", during.lastResult().orElseThrow().to());
            assertEquals("refused", during.lastResult().orElseThrow().reason());
        } finally {
            p.getOutputStream().close();
        }
        assertEquals("released", line(p));
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        StateStore.View after = reader.read(true);
        assertFalse(after.fromSnapshot(), "released: the database is free and is the truth");
        assertTrue(after.wholeJournal());
        assertEquals(6, after.journal().size(), "both updates' journals: " + after.journal());
        assertEquals("FETCHING", after.state().orElseThrow().stateName());
        assertFalse(StatusSnapshot.read(dir).orElseThrow().held(), "a release marks the snapshot as not held");
    }

    /**
     * Once the holder has closed the database normally, a status read uses the snapshot instead of opening H2, for
     * as long as the database file is exactly as that close left it; the whole journal still comes from the
     * database. (The snapshot's state is renamed here so that the test can tell which of the two answered.)
     */
    @Test
    void afterACleanReleaseReadersUseTheSnapshotUntilTheDatabaseIsWrittenAgain() throws Exception {
        Path dir = tmp.resolve("hupd");
        StateStore reader = new StateStore(dir);
        earlierFailedUpdate(reader);
        Process p = holder(dir, "u-1", 4);
        p.getOutputStream().close();
        assertEquals("released", line(p));
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        Path snapshot = dir.resolve(StatusSnapshot.FILE);
        java.nio.file.Files.writeString(snapshot, java.nio.file.Files.readString(snapshot)
                .replace("\"name\":\"FETCHING\"", "\"name\":\"FROM_SNAPSHOT\""));

        StateStore.View status = reader.read(false);
        assertEquals("FROM_SNAPSHOT", status.state().orElseThrow().stateName());
        assertEquals(4, status.journal().size());
        assertEquals("refused", status.lastResult().orElseThrow().reason());
        assertFalse(status.fromSnapshot(), "nobody holds the database: status must not say an update does");
        assertTrue(status.holderPid().isEmpty());
        assertEquals("FETCHING", reader.read(true).state().orElseThrow().stateName(), "the whole journal is H2's");

        Path db = dir.resolve("state.mv.db");
        java.nio.file.Files.setLastModifiedTime(db, java.nio.file.attribute.FileTime.from(
                java.nio.file.Files.getLastModifiedTime(db).toInstant().plusSeconds(1)));
        assertEquals("FETCHING", reader.read(false).state().orElseThrow().stateName(),
                "a database written after the release is read again");
    }

    @Test
    void aDatabaseLeftAfterAFailureIsNotStoodForByTheSnapshot() throws Exception {
        Path dir = tmp.resolve("hupd");
        StateStore holder = new StateStore(dir).hold();
        earlierFailedUpdate(holder);
        holder.abandon();
        StatusSnapshot.Contents left = StatusSnapshot.read(dir).orElseThrow();
        assertFalse(left.held());
        assertTrue(left.releasedDatabase().isEmpty(), "abandoned: readers must open the database");
    }

    @Test
    void theSnapshotOfADeadHolderIsNotTrusted() throws Exception {
        Path dir = tmp.resolve("hupd");
        StateStore reader = new StateStore(dir);
        Process p = holder(dir, "u-1", 3);
        p.destroyForcibly();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        // It still says "held" (a killed process rewrites nothing); the reader must see that the holder is gone.
        assertTrue(StatusSnapshot.read(dir).orElseThrow().held());
        StateStore.View v = reader.read(false);
        assertFalse(v.fromSnapshot());
        assertEquals(3, v.journal().size());
    }
}
