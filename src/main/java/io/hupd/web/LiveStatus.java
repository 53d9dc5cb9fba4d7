package io.hupd.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.persistence.JournalEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The page's view of the device, rebuilt when the update (another process) writes its database, its snapshot or
 * its progress file. Watching file times rather than re-reading every tick keeps the server from competing with
 * the update for the database: an update holds it open from start to end, and a reader that opened it between two
 * updates would make the next one wait.
 */
public final class LiveStatus implements AutoCloseable {
    /**
     * One reading of the device: the status report as {@code hupd status --json} has it (state, lastResult,
     * reason, ...) and the journal of its current update, both from the same read of the database.
     */
    public record Reading(Map<String, Object> status, List<JournalEntry> journal) {}

    /** Reads the device once. */
    public interface Source {
        Reading read() throws Exception;
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long POLL_MS = 120;
    private static final long IN_FLIGHT_REFRESH_MS = 1000;

    private final Path hupdDir;
    private final Source source;
    private final Thread poller;
    private volatile boolean running = true;
    private String snapshot;
    private long version;
    private long dbSeen = -1;
    private long progressSeen = -1;
    private int unsettled;
    private boolean inFlight;
    private long lastBuild;

    public LiveStatus(Path hupdDir, Source source) {
        this.hupdDir = hupdDir;
        this.source = source;
        refresh(true);
        this.poller = new Thread(this::poll, "hupd-serve-poll");
        poller.setDaemon(true);
        poller.start();
    }

    /** The current snapshot (JSON) and its version; versions only grow. */
    public synchronized Map.Entry<Long, String> current() {
        return Map.entry(version, snapshot);
    }

    /** Waits until the version is above {@code seen}, or the timeout passes; returns the current snapshot. */
    public synchronized Map.Entry<Long, String> awaitAfter(long seen, long timeoutMs) throws InterruptedException {
        long end = System.currentTimeMillis() + timeoutMs;
        while (version <= seen && running) {
            long left = end - System.currentTimeMillis();
            if (left <= 0) {
                break;
            }
            wait(left);
        }
        return Map.entry(version, snapshot);
    }

    public boolean running() {
        return running;
    }

    private void poll() {
        while (running) {
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                return;
            }
            refresh(false);
        }
    }

    private void refresh(boolean force) {
        // The running update's snapshot changes with each of its transitions, as the database does.
        long db = mtime(hupdDir.resolve("state.mv.db")) * 31 + mtime(hupdDir.resolve("state-snapshot.json"));
        long progress = mtime(hupdDir.resolve("progress.json"));
        // While an update is in flight the time in its state grows: refresh now and then even without writes.
        boolean stale = inFlight && System.currentTimeMillis() - lastBuild >= IN_FLIGHT_REFRESH_MS;
        if (!force && !stale && db == dbSeen && progress == progressSeen) {
            return;
        }
        String json = build();
        long dbAfter = mtime(hupdDir.resolve("state.mv.db")) * 31 + mtime(hupdDir.resolve("state-snapshot.json"));
        // The database part is one read, but the device's files (boot settings, breadcrumbs) are read next to it:
        // an update that wrote meanwhile may have moved them on, so read again. Bounded, because closing the
        // database after a read writes to its file too.
        if (dbAfter != db && unsettled < 5) {
            unsettled++;
            dbSeen = db;
        } else {
            unsettled = 0;
            dbSeen = dbAfter;
        }
        progressSeen = progress;
        lastBuild = System.currentTimeMillis();
        synchronized (this) {
            if (!Objects.equals(json, snapshot)) {
                snapshot = json;
                version++;
                notifyAll();
            }
        }
    }

    private String build() {
        Map<String, Object> m = new LinkedHashMap<>();
        try {
            Reading reading = source.read();
            Map<String, Object> status = reading.status();
            m.put("status", status);
            Object updateId = status.get("updateId");
            Timeline.Update update = null;
            if (updateId != null) {
                List<JournalEntry> journal = reading.journal().stream()
                        .filter(e -> e.updateId().equals(updateId.toString())).toList();
                List<Timeline.Update> us = Timeline.of(journal, Instant.now()).updates();
                update = us.isEmpty() ? null : us.get(us.size() - 1);
            }
            m.put("update", update);
            inFlight = update != null && update.result() == null;
            Map<String, Object> progress = ProgressFile.read(hupdDir.resolve("progress.json"));
            // Progress of an earlier update is no news; only show what this update wrote.
            if (progress != null && update != null && progress.get("updatedAt") != null
                    && !Instant.parse(progress.get("updatedAt").toString()).isBefore(
                            Instant.parse(update.startedAt()))) {
                m.put("progress", progress);
            } else {
                m.put("progress", null);
            }
            m.put("error", null);
        } catch (Exception e) {
            m.put("error", String.valueOf(e.getMessage()));
        }
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            return "{\"error\":\"the status does not serialize\"}";
        }
    }

    private static long mtime(Path p) {
        try {
            return Files.getLastModifiedTime(p).to(java.util.concurrent.TimeUnit.MICROSECONDS) * 31 + Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    @Override
    public void close() {
        running = false;
        poller.interrupt();
        synchronized (this) {
            notifyAll();
        }
    }
}
