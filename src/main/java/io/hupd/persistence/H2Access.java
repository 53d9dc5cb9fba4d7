package io.hupd.persistence;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** What the store needs to know about H2 itself: forcing to disk, a busy file, and how it reports damage. */
final class H2Access {
    private H2Access() {}

    static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException | RuntimeException e) {
                // it failed to open properly; nothing more to do
            }
        }
    }

    static void pause() throws IOException {
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
    static IOException failure(Path dir, boolean exists, Exception last) {
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
        if (last != null && !isLocked(last) && exists && !failingDisk) {
            // hupd cannot trust the file; the caller rebuilds from the disk and keeps the file aside, so a wrong
            // guess costs a rebuild, never the device.
            return new StateStore.DatabaseDamaged(why, last);
        }
        return new IOException(why, last);
    }

    static boolean isLocked(Exception e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("already in use") || m.contains("locked");
    }

    static void sync(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CHECKPOINT SYNC");
        }
    }

    static String firstLine(Exception e) {
        if (e == null) {
            return "unknown error";
        }
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** Closes the database's files at once, without one more write, as a power-off would. */
    static void closeImmediately(Connection c) {
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
}
