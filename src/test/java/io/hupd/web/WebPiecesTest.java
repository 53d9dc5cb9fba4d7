package io.hupd.web;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.persistence.JournalEntry;
import io.hupd.ports.Progress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WebPiecesTest {
    @TempDir
    Path tmp;

    @Test
    void tokenIsMadeOwnerOnlyKeptAndReplacedWhenNotOurs() throws Exception {
        Path f = tmp.resolve("data/hupd/serve-token");
        String t = ServeToken.ensure(f);
        assertTrue(t.matches("[0-9a-f]{64}"), t);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertEquals(t, ServeToken.ensure(f), "an existing token is kept");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        ServeToken.ensure(f);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), "tightened again");
        Files.writeString(f, "guessable\n");
        assertNotEquals("guessable", ServeToken.ensure(f));
        assertTrue(ServeToken.matches(t, t));
        assertFalse(ServeToken.matches(t, t.substring(1)));
        assertFalse(ServeToken.matches(t, null));
    }

    @Test
    void timelineGroupsByUpdateWithTimeInStateResultAndReason() {
        Instant t0 = Instant.parse("2026-01-01T10:00:00Z");
        List<JournalEntry> j = List.of(
                new JournalEntry(1, "u1", t0, "IDLE", "START", "LOCKED", "BEFORE_COMMIT", null),
                new JournalEntry(2, "u1", t0.plusMillis(300), "LOCKED", "FAILED", "FAILED", "DONE", "disk full"),
                new JournalEntry(3, "u2", t0.plusSeconds(60), "FAILED", "START", "LOCKED", "BEFORE_COMMIT", null),
                new JournalEntry(4, "u2", t0.plusSeconds(61), "LOCKED", "SUCCEEDED", "PREFLIGHT", "BEFORE_COMMIT", null));
        Timeline t = Timeline.of(j, t0.plusSeconds(65));
        assertEquals(2, t.updates().size());
        Timeline.Update u1 = t.updates().get(0);
        assertEquals("FAILED", u1.result());
        assertEquals("disk full", u1.reason());
        assertEquals(300, u1.durationMs());
        assertEquals(300L, u1.transitions().get(0).msInState());
        assertNull(u1.transitions().get(1).msInState(), "an update does not stay in its result");
        Timeline.Update u2 = t.updates().get(1);
        assertNull(u2.result(), "in flight");
        assertEquals("PREFLIGHT", u2.state());
        assertEquals(4000L, u2.transitions().get(1).msInState(), "so far");
        assertTrue(u2.transitions().get(1).current());
        assertFalse(u2.transitions().get(0).current());
        assertEquals("850ms", Timeline.human(850));
        assertEquals("12.3s", Timeline.human(12_300));
        assertEquals("4m 05s", Timeline.human(245_000));
    }

    @Test
    void progressFilePassesEverythingOnAndKeepsTheLatestOnDisk() throws Exception {
        List<String> calls = new ArrayList<>();
        Progress inner = new Progress() {
            @Override
            public void start(String task, long totalBytes) {
                calls.add("start " + task + " " + totalBytes);
            }

            @Override
            public void advance(long bytes) {
                calls.add("advance " + bytes);
            }

            @Override
            public void finish() {
                calls.add("finish");
            }
        };
        Path f = tmp.resolve("hupd/progress.json");
        ProgressFile p = new ProgressFile(f, inner);
        p.start("fetching", 1000);
        Map<String, Object> m = ProgressFile.read(f);
        assertEquals("fetching", m.get("task"));
        assertEquals(1000, ((Number) m.get("totalBytes")).intValue());
        assertEquals(false, m.get("finished"));
        p.advance(400);
        p.advance(600);
        p.finish();
        assertEquals(List.of("start fetching 1000", "advance 400", "advance 600", "finish"), calls);
        m = ProgressFile.read(f);
        assertEquals(1000, ((Number) m.get("doneBytes")).intValue());
        assertEquals(true, m.get("finished"));
        assertNull(ProgressFile.read(tmp.resolve("none.json")));
    }
}
