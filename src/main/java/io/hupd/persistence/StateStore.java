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
 * because H2 does not force anything to disk on commit. The database is opened per operation and closed again,
 * so that another process ({@code hupd status}) can read it while an update runs.
 */
public final class StateStore {
    private static final String MIGRATIONS = "/io/hupd/persistence/migrations/";
    public static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final String url;
    private final Path dir;

    public StateStore(Path dir) {
        this(dir, "file:");
    }

    /** @param scheme H2 file-system scheme prefix; tests wrap the file system to watch or break its writes */
    public StateStore(Path dir, String scheme) {
        this.dir = dir;
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

    public boolean exists() {
        return Files.exists(dir.resolve("state.mv.db"));
    }

    /**
     * Moves an unreadable database aside (kept for inspection, never deleted) so that a fresh one can be made.
     *
     * @return where it went
     */
    public Path quarantine(Instant at) throws IOException {
        Path db = dir.resolve("state.mv.db");
        Path kept = dir.resolve("state.mv.db.unreadable-" + at.getEpochSecond());
        if (Files.exists(db)) {
            Files.move(db, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Files.deleteIfExists(dir.resolve("state.trace.db"));
        io.hupd.fs.AtomicFiles.forceDirectory(dir);
        return kept;
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
        });
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
            }
            sync(c);
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
            return null;
        });
    }

    public List<JournalEntry> journal(String updateIdOrNull) throws IOException {
        if (!exists()) {
            return List.of();
        }
        return withConnection(c -> {
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
        });
    }

    /** The last journal entry that ended an update (its result), or empty. */
    public Optional<JournalEntry> lastResult() throws IOException {
        if (!exists()) {
            return Optional.empty();
        }
        return withConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT seq, update_id, at, from_state, event, to_state,"
                    + " to_phase, reason FROM journal WHERE to_phase = ? ORDER BY seq DESC LIMIT 1")) {
                ps.setString(1, Phase.DONE.name());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(entry(rs)) : Optional.<JournalEntry>empty();
                }
            }
        });
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
        Files.createDirectories(dir);
        Exception last = null;
        // Another hupd process (status while an update runs) may hold the file for a moment.
        for (int attempt = 0; attempt < 40; attempt++) {
            try (Connection c = DriverManager.getConnection(url, "hupd", "")) {
                migrate(c);
                return work.run(c);
            } catch (SQLException | RuntimeException e) {
                // H2 reports a damaged file in many shapes (a corrupt-file code, an internal assertion, even a
                // syntax error in its own scrambled metadata), and not always as an SQLException: see isDamage.
                last = e;
                if (!isLocked(e)) {
                    break;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        String why = "the state database in " + dir + " cannot be used: " + firstLine(last);
        if (last != null && !isLocked(last) && exists() && isDamage(last)) {
            throw new DatabaseDamaged(why, last);
        }
        throw new IOException(why, last);
    }

    /**
     * Whether a failure says the file's content cannot be trusted. The caller then rebuilds from the disk and
     * keeps the file aside, so a wrong "yes" costs a rebuild, never the device. A failing disk (an I/O error
     * other than a short read, a full disk) or a dying process (an Error) is not the file's fault: those
     * propagate as they are.
     */
    private static boolean isDamage(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof Error && !(t instanceof AssertionError)) {
                return false;
            }
            if (t instanceof IOException && !(t instanceof java.io.EOFException)) {
                return false;
            }
        }
        return true;
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

    private static void migrate(Connection c) throws SQLException, IOException {
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
