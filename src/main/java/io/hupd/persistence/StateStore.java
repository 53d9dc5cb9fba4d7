package io.hupd.persistence;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.machine.Phase;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateMachine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The update's state row and journal in H2. Every write is one transaction followed by {@code CHECKPOINT SYNC},
 * because H2 does not force anything to disk on commit.
 *
 * <p>Two ways to use it. The process that holds the device lock calls {@link #hold()}: one connection then serves
 * every operation until {@link #release()} (or {@link #abandon()} on a failure), and after each write the
 * {@link StatusSnapshot} file is brought up to date, so that readers in other processes see the update while the
 * database is held. Readers ({@link #read}) open the database once for one consistent read when it is free, and
 * use the snapshot while a live holder has it. Without {@code hold()} each operation opens and closes the file.
 */
public final class StateStore {
    public static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final String url;
    private final Path dir;
    /** While {@link #hold()} is in force: the one open connection (null until first needed, or after a failure). */
    private Connection held;
    private boolean holding;
    private final SpaceReserve reserve;

    public StateStore(Path dir) {
        this(dir, "file:");
    }

    /** @param scheme H2 file-system scheme prefix; tests wrap the file system to watch or break its writes */
    public StateStore(Path dir, String scheme) {
        this.dir = dir;
        this.reserve = new SpaceReserve(dir);
        this.url = "jdbc:h2:" + scheme + dir.toAbsolutePath().resolve("state")
                + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE;TRACE_LEVEL_FILE=0;MAX_COMPACT_TIME=0";
    }

    /** The database file is damaged (as opposed to busy or missing): only a rebuild from the disk helps. */
    public static final class DatabaseDamaged extends IOException {
        DatabaseDamaged(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public Path directory() {
        return dir;
    }

    /** H2's file of this store. */
    private Path databaseFile() {
        return dir.resolve("state.mv.db");
    }

    public boolean exists() {
        return Files.exists(databaseFile());
    }

    /**
     * Moves an unreadable database aside (kept for inspection, never deleted) so that a fresh one can be made.
     *
     * @return where it went
     */
    public Path quarantine(Instant at) throws IOException {
        // The held connection is on the file being moved; the fresh database is opened on the next operation.
        drop();
        StatusSnapshot.delete(dir);
        Path db = databaseFile();
        Path kept = dir.resolve("state.mv.db.unreadable-" + at.getEpochSecond());
        if (Files.exists(db)) {
            Files.move(db, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Files.deleteIfExists(dir.resolve("state.trace.db"));
        io.hupd.fs.AtomicFiles.forceDirectory(dir);
        return kept;
    }

    /**
     * Keeps one connection open from the next operation on, for the process that holds the device lock: a transition
     * then costs its write and its {@code CHECKPOINT SYNC}, not an open and a close of the database as well.
     */
    public StateStore hold() {
        holding = true;
        reserve.refill();
        return this;
    }

    /**
     * Ends {@link #hold()} normally: closes the connection (every write on it was already forced) and tells readers
     * through the snapshot that the database is free again.
     */
    public void release() throws IOException {
        holding = false;
        Connection c = held;
        held = null;
        try {
            if (c != null) {
                c.close();
            }
        } catch (SQLException e) {
            throw new IOException("the state database in " + dir + " did not close: " + H2Access.firstLine(e), e);
        } finally {
            // Stamped only after a clean close: the file is then exactly what the snapshot describes.
            markReleased(c != null);
            reserve.refill();
        }
    }

    /**
     * Ends {@link #hold()} after a failure, the way a process that dies leaves the database: the files are closed
     * without one more write (H2's immediate shutdown), so nothing that was not forced before reaches the disk now.
     * Within one JVM this also matters for the next opener, which would otherwise share the still-open database and
     * see writes that the disk may have lost.
     */
    public void abandon() {
        holding = false;
        drop();
        // Only the derived file: a process that lives on after the failure must not keep readers on a stale snapshot.
        markReleased(false);
    }

    private void drop() {
        Connection c = held;
        held = null;
        if (c != null) {
            H2Access.closeImmediately(c);
        }
    }

    /** What a reader sees of the database: one consistent moment. */
    public record View(Optional<StoredState> state, Optional<JournalEntry> lastResult, List<JournalEntry> journal,
            boolean wholeJournal, Optional<StatusSnapshot.Contents> snapshot) {
        /** Read from the running update's snapshot, because that update holds the database. */
        public boolean fromSnapshot() {
            return snapshot.isPresent() && snapshot.get().held();
        }

        /** The pid of the update that holds the database, when read from its snapshot. */
        public Optional<Long> holderPid() {
            return snapshot.filter(StatusSnapshot.Contents::held).map(StatusSnapshot.Contents::pid);
        }
    }

    /**
     * The state row, the last result and a journal, in one read: from the database in one connection when it is
     * free (H2 lets one process have the file, so no other process can write between the statements), or from the
     * snapshot of the live process that holds it. The snapshot has only the current update's journal;
     * {@link View#wholeJournal()} says which came.
     *
     * @param wholeJournal every update's journal rather than the current update's
     */
    public View read(boolean wholeJournal) throws IOException {
        if (!exists()) {
            return new View(Optional.empty(), Optional.empty(), List.of(), true, Optional.empty());
        }
        Exception last = null;
        for (int attempt = 0; attempt < 40; attempt++) {
            Optional<StatusSnapshot.Contents> snap = StatusSnapshot.read(dir);
            if (snap.isPresent() && snap.get().live()) {
                StatusSnapshot.Contents s = snap.get();
                return new View(s.state(), s.lastResult(), s.journal(), false, snap);
            }
            // The last holder closed the database and nobody has written it since: the snapshot is what a read
            // would return (the current update's journal), without opening H2 (a cold JVM's largest start-up cost).
            if (!wholeJournal && snap.isPresent() && snap.get().currentWith(databaseFile())) {
                StatusSnapshot.Contents s = snap.get();
                return new View(s.state(), s.lastResult(), s.journal(), false, snap);
            }
            try (Connection c = DriverManager.getConnection(url, "hupd", "")) {
                StateSchema.migrate(c);
                return readView(c, wholeJournal);
            } catch (SQLException | RuntimeException e) {
                last = e;
                if (!H2Access.isLocked(e)) {
                    break;
                }
            }
            // Another reader has it for a moment, or an update has opened it and not yet written its snapshot.
            H2Access.pause();
        }
        throw H2Access.failure(dir, exists(), last);
    }

    private View readView(Connection c, boolean wholeJournal) throws SQLException, IOException {
        Optional<StoredState> state = StateRows.loadRow(c);
        String updateId = state.map(s -> s.context().updateId()).orElse(null);
        List<JournalEntry> journal = wholeJournal ? StateRows.journal(c, null)
                : updateId == null ? List.of() : StateRows.journal(c, updateId);
        return new View(state, StateRows.lastResult(c), journal, wholeJournal, Optional.empty());
    }

    /** After a write by the holder: the snapshot readers in other processes use meanwhile. */
    private void writeSnapshot(Connection c) {
        try {
            View v = readView(c, false);
            StatusSnapshot.write(dir, true, Instant.now(), v.state(), v.lastResult(), v.journal(), Optional.empty());
        } catch (SQLException | IOException | RuntimeException e) {
            // It is only derived; a stale one must not outlive the failure to replace it.
            StatusSnapshot.delete(dir);
        }
    }

    /**
     * After this process's own read of the database it released (H2 rewrites the file when it closes it): the
     * released snapshot stands for the file as it is now. Only for the process that released it, still holding the
     * device lock, after a read-back that found what it wrote; a snapshot of another process is left alone.
     */
    public void restampReleased() {
        Optional<StatusSnapshot.Contents> s = StatusSnapshot.read(dir);
        if (s.isEmpty() || s.get().held() || s.get().pid() != ProcessHandle.current().pid()
                || s.get().releasedDatabase().isEmpty()) {
            return;
        }
        try {
            StatusSnapshot.write(dir, false, Instant.now(), s.get().state(), s.get().lastResult(), s.get().journal(),
                    StatusSnapshot.stamp(databaseFile()));
        } catch (IOException | RuntimeException e) {
            StatusSnapshot.delete(dir);
        }
    }

    /** @param cleanClose the database was closed normally: the snapshot may stand for it until it is written again */
    private void markReleased(boolean cleanClose) {
        Optional<StatusSnapshot.Contents> s = StatusSnapshot.read(dir);
        if (s.isEmpty() || !s.get().held() || s.get().pid() != ProcessHandle.current().pid()) {
            return;
        }
        try {
            StatusSnapshot.write(dir, false, Instant.now(), s.get().state(), s.get().lastResult(), s.get().journal(),
                    cleanClose ? StatusSnapshot.stamp(databaseFile()) : Optional.empty());
        } catch (IOException | RuntimeException e) {
            StatusSnapshot.delete(dir);
        }
    }

    public Optional<StoredState> load() throws IOException {
        if (!exists()) {
            return Optional.empty();
        }
        return withConnection(c -> {
            // Every stored row is read once, so that a damaged page shows up now, not halfway through an update.
            try (Statement scan = c.createStatement();
                    ResultSet all = scan.executeQuery("SELECT * FROM journal")) {
                while (all.next()) {
                    all.getString("reason");
                }
            }
            return StateRows.loadRow(c);
        });
    }

    /** Persists one transition: the new state row and its journal entry together, then forces them to disk. */
    public void record(UpdateMachine.Fired fired, Phase toPhase, UpdateContext ctx, Instant at) throws IOException {
        record(fired.from().name(), fired.event().name(), fired.to().name(), toPhase, fired.reason(), ctx, at);
    }

    /** As {@link #record(UpdateMachine.Fired, Phase, UpdateContext, Instant)}, with names (the source state may be unknown). */
    public void record(String from, String event, String to, Phase toPhase, String reason, UpdateContext ctx,
            Instant at) throws IOException {
        String json = StateRows.write(ctx);
        withConnection(c -> {
            StateRows.writeTransition(c, from, event, to, toPhase, reason, ctx, json, at);
            H2Access.sync(c);
            if (holding) {
                writeSnapshot(c);
            }
            return null;
        });
    }

    /** Rewrites the context of the current state without a transition (progress such as bytes fetched). */
    public void updateContext(UpdateContext ctx) throws IOException {
        String json = StateRows.write(ctx);
        withConnection(c -> {
            StateRows.writeContext(c, json);
            H2Access.sync(c);
            if (holding) {
                writeSnapshot(c);
            }
            return null;
        });
    }

    public List<JournalEntry> journal(String updateIdOrNull) throws IOException {
        if (!exists()) {
            return List.of();
        }
        return withConnection(c -> StateRows.journal(c, updateIdOrNull));
    }

    /** The last journal entry that ended an update (its result), or empty. */
    public Optional<JournalEntry> lastResult() throws IOException {
        if (!exists()) {
            return Optional.empty();
        }
        return withConnection(StateRows::lastResult);
    }

    public int schemaVersion() throws IOException {
        return withConnection(StateSchema::currentVersion);
    }

    private interface Work<T> {
        T run(Connection c) throws SQLException, IOException;
    }

    private <T> T withConnection(Work<T> work) throws IOException {
        reserve.releaseIfLow();
        if (holding) {
            return withHeld(work);
        }
        Files.createDirectories(dir);
        Exception last = null;
        // Another hupd process (status while an update runs) may hold the file for a moment.
        for (int attempt = 0; attempt < 40; attempt++) {
            try (Connection c = DriverManager.getConnection(url, "hupd", "")) {
                StateSchema.migrate(c);
                return work.run(c);
            } catch (SQLException | RuntimeException e) {
                last = e;
                if (!H2Access.isLocked(e)) {
                    break;
                }
                H2Access.pause();
            }
        }
        throw H2Access.failure(dir, exists(), last);
    }

    private <T> T withHeld(Work<T> work) throws IOException {
        boolean opened = false;
        if (held == null) {
            held = open();
            opened = true;
        }
        try {
            T result = work.run(held);
            if (opened) {
                // Readers in other processes cannot open the database from now on: show them where it stands.
                writeSnapshot(held);
            }
            return result;
        } catch (SQLException | RuntimeException e) {
            // The connection may be anywhere after a failure inside H2: drop it; the next operation opens afresh.
            drop();
            throw H2Access.failure(dir, exists(), e);
        } catch (IOException | Error e) {
            drop();
            throw e;
        }
    }

    /** Opens and migrates, waiting (up to 2 s) while another process has the file. */
    private Connection open() throws IOException {
        Files.createDirectories(dir);
        Exception last = null;
        for (int attempt = 0; attempt < 40; attempt++) {
            Connection c = null;
            try {
                c = DriverManager.getConnection(url, "hupd", "");
                StateSchema.migrate(c);
                return c;
            } catch (SQLException | RuntimeException e) {
                last = e;
                H2Access.closeQuietly(c);
                if (!H2Access.isLocked(e)) {
                    break;
                }
                H2Access.pause();
            } catch (IOException | Error e) {
                H2Access.closeQuietly(c);
                throw e;
            }
        }
        throw H2Access.failure(dir, exists(), last);
    }

}
