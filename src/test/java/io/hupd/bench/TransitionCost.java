package io.hupd.bench;

import io.hupd.machine.MachineLimits;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.Phase;
import io.hupd.machine.UpdateMachine;
import io.hupd.persistence.StateStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the time of one persisted transition goes: the same statements {@link StateStore} runs, timed one by one
 * (open, schema-version check, the two-row write and its commit, CHECKPOINT SYNC, close), then whole
 * {@link StateStore#record} calls as hupd makes them. Run by hand in a JVM with the launcher's flags:
 * {@code java <flags> -cp target/hupd.jar:target/test-classes io.hupd.bench.TransitionCost DIR [N]}.
 * Not a test: it prints numbers and asserts nothing.
 */
public final class TransitionCost {
    private TransitionCost() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: TransitionCost EMPTY_DIR [TRANSITIONS]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 40;
        Files.createDirectories(dir);

        // Make the schema and a few rows the way hupd does, so that the timed opens find a real database.
        StateStore store = new StateStore(dir.resolve("phases"));
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        UpdateContext ctx = UpdateContext.builder()
                .updateId("bench")
                .targetVersion("2.101.0")
                .images(List.of("oci:layout:2.101.0"))
                .build();
        long t = System.nanoTime();
        UpdateMachine.Fired f = m.start(ctx);
        store.record(f, f.to().phase(), m.context(), Instant.now());
        System.out.printf("first record in this JVM (class loading, database creation): %.1f ms%n", ms(t));
        String json = StateStore.JSON.writeValueAsString(m.context());

        String url = "jdbc:h2:file:" + dir.resolve("phases").toAbsolutePath().resolve("state")
                + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE;TRACE_LEVEL_FILE=0;MAX_COMPACT_TIME=0";
        Map<String, double[]> phases = new LinkedHashMap<>();
        for (String p : List.of("open", "migrate check", "write+commit", "CHECKPOINT SYNC", "close", "total")) {
            phases.put(p, new double[n]);
        }
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            t = start;
            Connection c = DriverManager.getConnection(url, "hupd", "");
            phases.get("open")[i] = ms(t);
            t = System.nanoTime();
            try (Statement st = c.createStatement()) {
                st.execute("CREATE TABLE IF NOT EXISTS schema_version(version INT NOT NULL)");
                try (ResultSet rs = st.executeQuery("SELECT MAX(version) FROM schema_version")) {
                    rs.next();
                }
            }
            // the next migration's resource is looked up (and not found) on every open
            TransitionCost.class.getResourceAsStream("/io/hupd/persistence/migrations/V002.sql");
            phases.get("migrate check")[i] = ms(t);
            t = System.nanoTime();
            c.setAutoCommit(false);
            try (PreparedStatement up = c.prepareStatement(
                    "MERGE INTO update_state(id, update_id, state, phase, context, context_format, transitions,"
                            + " updated_at) KEY(id) VALUES (1, ?, ?, ?, ?, ?, ?, ?)");
                    PreparedStatement j = c.prepareStatement(
                            "INSERT INTO journal(update_id, at, from_state, event, to_state, to_phase, reason)"
                                    + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                Timestamp now = Timestamp.from(Instant.now());
                up.setString(1, "bench");
                up.setString(2, "PREFLIGHT");
                up.setString(3, "BEFORE_COMMIT");
                up.setString(4, json);
                up.setInt(5, UpdateContext.FORMAT_VERSION);
                up.setInt(6, i);
                up.setTimestamp(7, now);
                up.executeUpdate();
                j.setString(1, "bench");
                j.setTimestamp(2, now);
                j.setString(3, "PREFLIGHT");
                j.setString(4, "SUCCEEDED");
                j.setString(5, "PREFLIGHT");
                j.setString(6, "BEFORE_COMMIT");
                j.setString(7, null);
                j.executeUpdate();
                c.commit();
            }
            phases.get("write+commit")[i] = ms(t);
            t = System.nanoTime();
            try (Statement st = c.createStatement()) {
                st.execute("CHECKPOINT SYNC");
            }
            phases.get("CHECKPOINT SYNC")[i] = ms(t);
            t = System.nanoTime();
            c.close();
            phases.get("close")[i] = ms(t);
            phases.get("total")[i] = ms(start);
        }
        System.out.printf("%d transitions, raw JDBC, open/close per transition (as StateStore does today):%n", n);
        print(phases);

        // The same database held open: only the write and the sync per transition.
        Map<String, double[]> held = new LinkedHashMap<>();
        held.put("write+commit", new double[n]);
        held.put("CHECKPOINT SYNC", new double[n]);
        try (Connection c = DriverManager.getConnection(url, "hupd", "")) {
            c.setAutoCommit(false);
            for (int i = 0; i < n; i++) {
                t = System.nanoTime();
                try (PreparedStatement j = c.prepareStatement(
                        "INSERT INTO journal(update_id, at, from_state, event, to_state, to_phase, reason)"
                                + " VALUES ('bench', CURRENT_TIMESTAMP, 'A', 'SUCCEEDED', 'B', 'BEFORE_COMMIT', NULL)");
                        PreparedStatement up = c.prepareStatement(
                                "UPDATE update_state SET context = ?, transitions = ? WHERE id = 1")) {
                    up.setString(1, json);
                    up.setInt(2, i);
                    up.executeUpdate();
                    j.executeUpdate();
                    c.commit();
                }
                held.get("write+commit")[i] = ms(t);
                t = System.nanoTime();
                try (Statement st = c.createStatement()) {
                    st.execute("CHECKPOINT SYNC");
                }
                held.get("CHECKPOINT SYNC")[i] = ms(t);
            }
        }
        System.out.printf("%d transitions on one held connection:%n", n);
        print(held);

        // Whole StateStore.record calls, as the runner makes them.
        double[] record = new double[n];
        for (int i = 0; i < n; i++) {
            t = System.nanoTime();
            store.record("PREFLIGHT", "RESUME", "PREFLIGHT", Phase.BEFORE_COMMIT, null, m.context(), Instant.now());
            record[i] = ms(t);
        }
        Map<String, double[]> whole = new LinkedHashMap<>();
        whole.put("StateStore.record", record);
        System.out.printf("%d StateStore.record calls:%n", n);
        print(whole);
    }

    private static double ms(long since) {
        return (System.nanoTime() - since) / 1e6;
    }

    private static void print(Map<String, double[]> phases) {
        for (Map.Entry<String, double[]> e : phases.entrySet()) {
            double[] v = e.getValue().clone();
            Arrays.sort(v);
            List<String> cols = new ArrayList<>();
            cols.add(String.format("median %7.2f ms", v[v.length / 2]));
            cols.add(String.format("p10 %7.2f", v[v.length / 10]));
            cols.add(String.format("p90 %7.2f", v[v.length * 9 / 10]));
            System.out.printf("  %-18s %s%n", e.getKey(), String.join("  ", cols));
        }
    }
}
