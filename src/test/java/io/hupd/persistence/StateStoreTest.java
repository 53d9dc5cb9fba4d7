package io.hupd.persistence;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.machine.MachineLimits;
import io.hupd.machine.Phase;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateEvent;
import io.hupd.machine.UpdateMachine;
import io.hupd.machine.UpdateState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateStoreTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void spy() {
        PowerCutFilePath.register();
    }

    @BeforeEach
    void countOnlyThisTestsWrites() {
        PowerCutFilePath.reset();
    }

    private static UpdateContext ctx() {
        UpdateContext c = UpdateContext.builder()
                .updateId("u-1")
                .targetVersion("2.114.0")
                .images(List.of("oci:/x:2.114.0"))
                .build();
        return c;
    }

    @Test
    void everyRecordedTransitionIsForcedToDisk() throws Exception {
        StateStore store = new StateStore(tmp.resolve("db"), "powercut:");
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        UpdateMachine.Fired f = m.start(ctx());
        long forcesBefore = PowerCutFilePath.forces();
        store.record(f, f.to().phase(), m.context(), Instant.now());
        assertEquals(0, PowerCutFilePath.unsyncedBytes(), "bytes written but not forced after a transition");
        assertTrue(PowerCutFilePath.forces() > forcesBefore);
        for (int i = 0; i < 8; i++) {
            f = m.fire(UpdateEvent.SUCCEEDED, null);
            store.record(f, f.to().phase(), m.context(), Instant.now());
            assertEquals(0, PowerCutFilePath.unsyncedBytes(), "after " + f.to());
        }
        assertEquals("SWITCHING_BOOT", store.load().orElseThrow().stateName());
        assertEquals(9, store.journal("u-1").size());
    }

    @Test
    void everyTransitionOnAHeldConnectionIsForcedToDiskToo() throws Exception {
        StateStore store = new StateStore(tmp.resolve("held"), "powercut:").hold();
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        UpdateMachine.Fired f = m.start(ctx());
        try {
            store.record(f, f.to().phase(), m.context(), Instant.now());
            assertEquals(0, PowerCutFilePath.unsyncedBytes(), "bytes written but not forced after a transition");
            for (int i = 0; i < 8; i++) {
                f = m.fire(UpdateEvent.SUCCEEDED, null);
                long forcesBefore = PowerCutFilePath.forces();
                store.record(f, f.to().phase(), m.context(), Instant.now());
                assertEquals(0, PowerCutFilePath.unsyncedBytes(), "after " + f.to());
                assertTrue(PowerCutFilePath.forces() > forcesBefore, "no force after " + f.to());
            }
            assertEquals("SWITCHING_BOOT", store.load().orElseThrow().stateName());
        } finally {
            store.release();
        }
        assertEquals(9, new StateStore(tmp.resolve("held"), "powercut:").journal("u-1").size());
    }

    @Test
    void anAbandonedConnectionWritesNothingMore() throws Exception {
        // A failure ends a held store as a dead process would: what was forced stays, and nothing else is written
        // on the way out (a normal close would write a last chunk).
        StateStore store = new StateStore(tmp.resolve("gone"), "powercut:").hold();
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        UpdateMachine.Fired f = m.start(ctx());
        store.record(f, f.to().phase(), m.context(), Instant.now());
        long writes = PowerCutFilePath.writes();
        store.abandon();
        assertEquals(writes, PowerCutFilePath.writes(), "the abandoned database wrote on its way out");
        assertEquals("LOCKED", new StateStore(tmp.resolve("gone")).load().orElseThrow().stateName());
    }

    @Test
    void plainH2CommitsAreNotForcedWhichIsWhyStateStoreSyncs() throws Exception {
        // The control: the measurement above can fail. A plain commit leaves written bytes unforced.
        String url = "jdbc:h2:powercut:" + tmp.resolve("plain/db") + ";WRITE_DELAY=0;MAX_COMPACT_TIME=0";
        try (Connection c = DriverManager.getConnection(url, "sa", "");
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t(x INT)");
            st.execute("CHECKPOINT SYNC");
            st.execute("INSERT INTO t VALUES (1)");
            assertTrue(PowerCutFilePath.unsyncedBytes() > 0, "H2 forced a plain commit after all?");
            st.execute("CHECKPOINT SYNC");
            assertEquals(0, PowerCutFilePath.unsyncedBytes());
        }
    }

    @Test
    void contextRoundTripsAndUnknownFieldsFromANewerHupdAreIgnored() throws Exception {
        StateStore store = new StateStore(tmp.resolve("db"));
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        UpdateMachine.Fired f = m.start(ctx());
        m.apply(c -> c.addSourceFailure("oci:/y: not found"));
        store.record(f, Phase.BEFORE_COMMIT, m.context(), Instant.now());
        UpdateContext back = store.load().orElseThrow().context();
        assertEquals("2.114.0", back.targetVersion());
        assertEquals(List.of("oci:/y: not found"), back.sourceFailures());

        // A newer hupd wrote a field and a state this one does not know (then the device rolled back to us).
        String url = "jdbc:h2:file:" + tmp.resolve("db/state");
        try (Connection c = DriverManager.getConnection(url, "hupd", "");
                Statement st = c.createStatement()) {
            st.execute("UPDATE update_state SET state = 'VERIFYING_SIGNATURE', context = '{\"updateId\":\"u-1\","
                    + "\"targetVersion\":\"2.114.0\",\"signatureKeyId\":\"k9\"}'");
        }
        StoredState s = store.load().orElseThrow();
        assertEquals("VERIFYING_SIGNATURE", s.stateName());
        assertEquals(Phase.BEFORE_COMMIT, s.phase());
        assertEquals("2.114.0", s.context().targetVersion());
    }

    @Test
    void aSchemaNewerThanThisHupdIsUsedAsIs() throws Exception {
        StateStore store = new StateStore(tmp.resolve("db"));
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        UpdateMachine.Fired f = m.start(ctx());
        store.record(f, Phase.BEFORE_COMMIT, m.context(), Instant.now());
        String url = "jdbc:h2:file:" + tmp.resolve("db/state");
        try (Connection c = DriverManager.getConnection(url, "hupd", "");
                Statement st = c.createStatement()) {
            st.execute("ALTER TABLE journal ADD COLUMN signer VARCHAR(64)");
            st.execute("UPDATE schema_version SET version = 7");
        }
        assertEquals(7, store.schemaVersion());
        f = m.fire(UpdateEvent.SUCCEEDED, null);
        store.record(f, Phase.BEFORE_COMMIT, m.context(), Instant.now());
        assertEquals(UpdateState.PREFLIGHT.name(), store.load().orElseThrow().stateName());
    }

    @Test
    void lastResultIsTheNewestEndOfAnUpdateEvenWithAnotherInFlight() throws Exception {
        StateStore store = new StateStore(tmp.resolve("db"));
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        UpdateMachine.Fired f = m.start(ctx());
        store.record(f, f.to().phase(), m.context(), Instant.now());
        f = m.fire(UpdateEvent.FAILED, "first one refused");
        store.record(f, f.to().phase(), m.context(), Instant.now());
        assertTrue(store.lastResult().isPresent());
        UpdateContext second = ctx().toBuilder().updateId("u-2").build();
        f = m.start(second);
        store.record(f, f.to().phase(), m.context(), Instant.now());
        JournalEntry last = store.lastResult().orElseThrow();
        assertEquals("u-1", last.updateId());
        assertEquals("FAILED", last.to());
        assertEquals("first one refused", last.reason());
    }

    @Test
    void aMissingDatabaseLoadsAsNoUpdate() throws Exception {
        StateStore store = new StateStore(tmp.resolve("none"));
        assertTrue(store.load().isEmpty());
        assertEquals(List.of(), store.journal(null));
        assertFalse(Files.exists(tmp.resolve("none/state.mv.db")));
    }
}
