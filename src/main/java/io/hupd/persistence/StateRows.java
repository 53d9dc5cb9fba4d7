package io.hupd.persistence;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.hupd.machine.Phase;
import io.hupd.machine.UpdateContext;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The SQL of the state row and the journal, on a connection the store provides, and the context as JSON. */
final class StateRows {
    private StateRows() {}

    /** The new state row and its journal entry in one transaction (the caller forces it to disk). */
    static void writeTransition(Connection c, String from, String event, String to, Phase toPhase, String reason,
            UpdateContext ctx, String json, Instant at) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement up = c.prepareStatement(
                "MERGE INTO update_state(id, update_id, state, phase, context, context_format, transitions,"
                        + " updated_at) KEY(id) VALUES (1, ?, ?, ?, ?, ?, ?, ?)");
                PreparedStatement j = c.prepareStatement(
                        "INSERT INTO journal(update_id, at, from_state, event, to_state, to_phase, reason)"
                                + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            up.setString(1, ctx.updateId());
            up.setString(2, to);
            up.setString(3, toPhase.name());
            up.setString(4, json);
            up.setInt(5, UpdateContext.FORMAT_VERSION);
            up.setInt(6, ctx.transitions());
            up.setTimestamp(7, Timestamp.from(at));
            up.executeUpdate();
            j.setString(1, ctx.updateId());
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
    }

    /** The current state's context, rewritten in place. */
    static void writeContext(Connection c, String json) throws SQLException {
        try (PreparedStatement up = c.prepareStatement("UPDATE update_state SET context = ? WHERE id = 1")) {
            up.setString(1, json);
            up.executeUpdate();
        }
    }

    static Optional<StoredState> loadRow(Connection c) throws SQLException, IOException {
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

    static List<JournalEntry> journal(Connection c, String updateIdOrNull) throws SQLException {
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

    static Optional<JournalEntry> lastResult(Connection c) throws SQLException {
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

    static UpdateContext parse(String json) throws IOException {
        try {
            return StateStore.JSON.readValue(json, UpdateContext.class);
        } catch (JsonProcessingException e) {
            throw new StateStore.DatabaseDamaged("the stored update context does not parse: " + e.getOriginalMessage(), e);
        }
    }

    static String write(UpdateContext ctx) throws IOException {
        return StateStore.JSON.writeValueAsString(ctx);
    }

    private static String truncate(String s) {
        return s == null || s.length() <= 4000 ? s : s.substring(0, 3997) + "...";
    }
}
