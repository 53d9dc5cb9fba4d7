package io.hupd.persistence;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** The database's schema: the numbered migrations in the resources, applied in order, each in one transaction. */
final class StateSchema {
    private static final String MIGRATIONS = "/io/hupd/persistence/migrations/";

    private StateSchema() {}

    /**
     * H2 lets every thread of one JVM open the file (another process waits for the file lock), and two first uses
     * at once (the daemon's update and its status page) both saw version 0 and ran V001 together: H2 failed the
     * second with "object already exists: JOURNAL_UPDATE", which reads as a damaged database. One migration at a
     * time per JVM; the one that waited then finds the version already applied.
     */
    private static final Object MIGRATING = new Object();

    static void migrate(Connection c) throws SQLException, IOException {
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
            H2Access.sync(c);
        }
    }

    static int currentVersion(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS schema_version(version INT NOT NULL)");
            try (ResultSet rs = st.executeQuery("SELECT MAX(version) FROM schema_version")) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static String readMigration(int v) throws IOException {
        try (InputStream in = StateSchema.class.getResourceAsStream(MIGRATIONS + String.format("V%03d.sql", v))) {
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
}
