package io.hupd.persistence;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.machine.Phase;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateMachine;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
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
    private static final String MIGRATIONS = "/io/hupd/persistence/migrations/";
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
            throw new IOException("the state database in " + dir + " did not close: " + firstLine(e), e);
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
        if (c == null) {
            return;
        }
        try {
            // Not the SQL "SHUTDOWN IMMEDIATELY": in H2 2.4 it first closes the session, which rolls back and
            // stores, then writes the sequences on close (StateStoreTest counts those writes). The engine's own
            // shutdownImmediately closes the files at once, as a power-off would.
            var session = c.unwrap(org.h2.jdbc.JdbcConnection.class).getSession();
            ((org.h2.engine.SessionLocal) session).getDatabase().shutdownImmediately();
        } catch (SQLException | RuntimeException e) {
            // Already closed by H2 itself (it closes a store whose write failed); closing below is all that is left.
        }
        try {
            c.close();
        } catch (SQLException | RuntimeException e) {
            // the database is gone either way
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
                migrate(c);
                return readView(c, wholeJournal);
            } catch (SQLException | RuntimeException e) {
                last = e;
                if (!isLocked(e)) {
                    break;
                }
            }
            // Another reader has it for a moment, or an update has opened it and not yet written its snapshot.
            pause();
        }
        throw failure(last);
    }

    private View readView(Connection c, boolean wholeJournal) throws SQLException, IOException {
        Optional<StoredState> state = loadRow(c);
        String updateId = state.map(s -> s.context().updateId).orElse(null);
        List<JournalEntry> journal = wholeJournal ? journal(c, null)
                : updateId == null ? List.of() : journal(c, updateId);
        return new View(state, lastResult(c), journal, wholeJournal, Optional.empty());
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
            return loadRow(c);
        });
    }

    private static Optional<StoredState> loadRow(Connection c) throws SQLException, IOException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT state, phase, context FROM update_state WHERE id = 1")) {
            if (!rs.next()) {
                return Optional.empty();
            }
            Phase phase;
            try {
                phase = Phase.valueOf(rs.getString(2));
            } catch (IllegalArgumentException e) {
                // a phase this hupd does not know can only come from a newer one; treat it as in flight
                phase = Phase.BEFORE_COMMIT;
            }
            return Optional.of(new StoredState(rs.getString(1), phase, parse(rs.getString(3))));
        }
    }

    /** Persists one transition: the new state row and its journal entry together, then forces them to disk. */
    public void record(UpdateMachine.Fired fired, Phase toPhase, UpdateContext ctx, Instant at) throws IOException {
        record(fired.from().name(), fired.event().name(), fired.to().name(), toPhase, fired.reason(), ctx, at);
    }

    /** As {@link #record(UpdateMachine.Fired, Phase, UpdateContext, Instant)}, with names (the source state may be unknown). */
    public void record(String from, String event, String to, Phase toPhase, String reason, UpdateContext ctx,
            Instant at) throws IOException {
        String json = write(ctx);
        withConnection(c -> {
            c.setAutoCommit(false);
            try (PreparedStatement up = c.prepareStatement(
                    "MERGE INTO update_state(id, update_id, state, phase, context, context_format, transitions,"
                            + " updated_at) KEY(id) VALUES (1, ?, ?, ?, ?, ?, ?, ?)");
                    PreparedStatement j = c.prepareStatement(
                            "INSERT INTO journal(update_id, at, from_state, event, to_state, to_phase, reason)"
                                    + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                up.setString(1, ctx.updateId);
                up.setString(2, to);
                up.setString(3, toPhase.name());
                up.setString(4, json);
                up.setInt(5, UpdateContext.FORMAT_VERSION);
                up.setInt(6, ctx.transitions);
                up.setTimestamp(7, Timestamp.from(at));
                up.executeUpdate();
                j.setString(1, ctx.updateId);
                j.setTimestamp(2, Timestamp.from(at));
                j.setString(3, from);
                j.setString(4, event);
                j.setString(5, to);
                j.setString(6, toPhase.name());
                j.setString(7, truncate(reason));
                j.executeUpdate();
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                // A held connection serves the next operations, which expect it as it was opened.
                c.setAutoCommit(true);
            }
            sync(c);
            if (holding) {
                writeSnapshot(c);
            }
            return null;
        });
    }

    /** Rewrites the context of the current state without a transition (progress such as bytes fetched). */
    public void updateContext(UpdateContext ctx) throws IOException {
        String json = write(ctx);
        withConnection(c -> {
            try (PreparedStatement up = c.prepareStatement("UPDATE update_state SET context = ? WHERE id = 1")) {
                up.setString(1, json);
                up.executeUpdate();
            }
            sync(c);
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
        return withConnection(c -> journal(c, updateIdOrNull));
    }

    private static List<JournalEntry> journal(Connection c, String updateIdOrNull) throws SQLException {
        String sql = "SELECT seq, update_id, at, from_state, event, to_state, to_phase, reason FROM journal"
                + (updateIdOrNull == null ? "" : " WHERE update_id = ?") + " ORDER BY seq";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (updateIdOrNull != null) {
                ps.setString(1, updateIdOrNull);
            }
            List<JournalEntry> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(entry(rs));
                }
            }
            return out;
        }
    }

    /** The last journal entry that ended an update (its result), or empty. */
    public Optional<JournalEntry> lastResult() throws IOException {
        if (!exists()) {
            return Optional.empty();
        }
        return withConnection(StateStore::lastResult);
    }

    private static Optional<JournalEntry> lastResult(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, update_id, at, from_state, event, to_state,"
                + " to_phase, reason FROM journal WHERE to_phase = ? ORDER BY seq DESC LIMIT 1")) {
            ps.setString(1, Phase.DONE.name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(entry(rs)) : Optional.empty();
            }
        }
    }

    private static JournalEntry entry(ResultSet rs) throws SQLException {
        return new JournalEntry(rs.getLong(1), rs.getString(2), rs.getTimestamp(3).toInstant(), rs.getString(4),
                rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8));
    }

    public int schemaVersion() throws IOException {
        return withConnection(StateStore::currentVersion);
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
                migrate(c);
                return work.run(c);
            } catch (SQLException | RuntimeException e) {
                last = e;
                if (!isLocked(e)) {
                    break;
                }
                pause();
            }
        }
        throw failure(last);
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
            throw failure(e);
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
                migrate(c);
                return c;
            } catch (SQLException | RuntimeException e) {
                last = e;
                closeQuietly(c);
                if (!isLocked(e)) {
                    break;
                }
                pause();
            } catch (IOException | Error e) {
                closeQuietly(c);
                throw e;
            }
        }
        throw failure(last);
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException | RuntimeException e) {
                // it failed to open properly; nothing more to do
            }
        }
    }

    private static void pause() throws IOException {
        try {
            Thread.sleep(50);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while the state database was busy");
        }
    }

    /**
     * H2 reports a damaged file in many shapes (a corrupt-file code, an internal assertion, even a syntax error in
     * its own scrambled metadata), and not always as an SQLException: anything but "busy" or a failing disk counts
     * as damage.
     */
    private IOException failure(Exception last) {
        boolean failingDisk = false;
        for (Throwable t = last; t != null; t = t.getCause()) {
            if (t instanceof Error e && !(t instanceof AssertionError)) {
                // The JVM failed under H2 (out of memory, or a test's power cut), which H2 wraps: that says nothing
                // about the file, and calling it damage would have the caller move a good database aside. H2's own
                // assertions (with -ea) are about what it read, so they stay damage.
                throw e;
            }
            // An I/O error (a full disk, EIO on a write) is the disk's, not the file's; a short read is the file's.
            failingDisk |= t instanceof IOException && !(t instanceof java.io.EOFException);
        }
        String why = "the state database in " + dir + " cannot be used: " + firstLine(last);
        if (last != null && !isLocked(last) && exists() && !failingDisk) {
            // hupd cannot trust the file; the caller rebuilds from the disk and keeps the file aside, so a wrong
            // guess costs a rebuild, never the device.
            return new DatabaseDamaged(why, last);
        }
        return new IOException(why, last);
    }

    private static boolean isLocked(Exception e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("already in use") || m.contains("locked");
    }

    private static void sync(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CHECKPOINT SYNC");
        }
    }

    /**
     * H2 lets every thread of one JVM open the file (another process waits for the file lock), and two first uses
     * at once (the daemon's update and its status page) both saw version 0 and ran V001 together: H2 failed the
     * second with "object already exists: JOURNAL_UPDATE", which reads as a damaged database. One migration at a
     * time per JVM; the one that waited then finds the version already applied.
     */
    private static final Object MIGRATING = new Object();

    private static void migrate(Connection c) throws SQLException, IOException {
        synchronized (MIGRATING) {
            migrateAlone(c);
        }
    }

    private static void migrateAlone(Connection c) throws SQLException, IOException {
        int version = currentVersion(c);
        for (int v = version + 1; ; v++) {
            String sql = readMigration(v);
            if (sql == null) {
                return;
            }
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                for (String s : stripComments(sql).split(";")) {
                    if (!s.isBlank()) {
                        st.execute(s);
                    }
                }
                st.execute("DELETE FROM schema_version");
                st.execute("INSERT INTO schema_version(version) VALUES (" + v + ")");
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(auto);
            }
            sync(c);
        }
    }

    private static int currentVersion(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS schema_version(version INT NOT NULL)");
            try (ResultSet rs = st.executeQuery("SELECT MAX(version) FROM schema_version")) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static String readMigration(int v) throws IOException {
        try (InputStream in = StateStore.class.getResourceAsStream(MIGRATIONS + String.format("V%03d.sql", v))) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String stripComments(String sql) {
        StringBuilder sb = new StringBuilder();
        for (String line : sql.split("\n")) {
            int i = line.indexOf("--");
            sb.append(i >= 0 ? line.substring(0, i) : line).append('\n');
        }
        return sb.toString();
    }

    private static UpdateContext parse(String json) throws IOException {
        try {
            return JSON.readValue(json, UpdateContext.class);
        } catch (JsonProcessingException e) {
            throw new DatabaseDamaged("the stored update context does not parse: " + e.getOriginalMessage(), e);
        }
    }

    private static String write(UpdateContext ctx) throws IOException {
        return JSON.writeValueAsString(ctx);
    }

    private static String truncate(String s) {
        return s == null || s.length() <= 4000 ? s : s.substring(0, 3997) + "...";
    }

    private static String firstLine(Exception e) {
        if (e == null) {
            return "unknown error";
        }
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
