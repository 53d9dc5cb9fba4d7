package io.hupd.runner;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.machine.UpdateState;
import io.hupd.persistence.JournalEntry;
import io.hupd.persistence.StateStore;
import io.hupd.persistence.StoredState;
import io.hupd.ports.BootSettings;
import io.hupd.testkit.Faults;
import io.hupd.testkit.FileDamage;
import io.hupd.testkit.TestRig;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * hupd's database is deleted, truncated or scribbled over while an update is in each state. The device must
 * still end on a working OS (the old one, or the new one after its trial), with the boot settings, the
 * breadcrumbs and {@code hupd status} agreeing.
 */
class DatabaseLossTest {
    enum Damage { DELETE, TRUNCATE, BITFLIP }

    @TempDir
    Path tmp;

    static Stream<Arguments> cases() {
        List<UpdateState> states = List.of(UpdateState.FETCHING, UpdateState.WRITING_ROOTFS,
                UpdateState.UPDATING_BOOT_FILES, UpdateState.ARMING_ROLLBACKS, UpdateState.SWITCHING_BOOT,
                UpdateState.HEALTH_CHECKING, UpdateState.COMMITTING);
        return states.stream().flatMap(s -> Stream.of(Damage.values()).map(d -> Arguments.of(s, d)));
    }

    static void damage(Path db, Damage d, long seed) throws Exception {
        switch (d) {
            case DELETE -> Files.delete(db);
            case TRUNCATE -> FileDamage.truncate(db, Files.size(db) / 3);
            case BITFLIP -> FileDamage.flipBits(db, seed, 64);
        }
    }

    @ParameterizedTest(name = "{1} while {0}")
    @MethodSource("cases")
    void theDeviceEndsOnAWorkingOs(UpdateState state, Damage d) throws Exception {
        TestRig rig = TestRig.create(tmp, "uboot");
        if (state.phase() == io.hupd.machine.Phase.BEFORE_COMMIT) {
            rig.steps = Faults.at(state, Faults.Kind.CRASH_AFTER, 1);
            assertThrows(Faults.SimulatedCrash.class, () -> rig.update(TestRig.V2));
        } else {
            rig.update(TestRig.V2);
            rig.steps = Faults.at(state, Faults.Kind.CRASH_BEFORE, 1);
            assertThrows(Faults.SimulatedCrash.class, rig::powerOn);
        }
        assertEquals(state.name(), rig.state());
        damage(rig.sim.dataDir().resolve("hupd/state.mv.db"), d, state.ordinal());
        rig.steps = java.util.function.UnaryOperator.identity();

        rig.powerOnUntilSettled();
        StateStore.View view = settledView(rig);
        String running = rig.runningVersion();
        List<JournalEntry> journal = view.journal();
        assertTrue(running.equals(TestRig.V1) || running.equals(TestRig.V2), running);
        BootSettings s = rig.sim.bootloader().read();
        assertFalse(s.upgradeAvailable(), () -> "no trial left armed: " + s + ", running " + running + ", journal "
                + describe(journal));
        assertEquals(rig.ports().slots().partitionOf(rig.sim.bootedSlot()), s.rootPart(), "settings name the running root");
        assertEquals(List.of(), rig.sim.state().breadcrumbs());
        assertTrue(rig.ports().supervisor().isRunning());
        assertEquals("user data\n", Files.readString(rig.deviceDir.resolve("data/user/notes.txt")));
        String end = view.state().map(StoredState::stateName).orElse("IDLE");
        // IDLE on the new OS: the damage was found only after the update had committed on the disk, so the
        // rebuild saw nothing in flight; the journal must then say that the database was lost, and why.
        JournalEntry last = journal.get(journal.size() - 1);
        boolean lostAfterCommit = end.equals("IDLE") && last.from().equals("DATABASE_LOST")
                && last.reason().contains("nothing on the disk shows an update in flight: running " + TestRig.V2);
        assertTrue((end.equals("COMMITTED") || lostAfterCommit) && running.equals(TestRig.V2)
                || (end.equals("FAILED") || end.equals("IDLE") || end.startsWith("ROLLED_BACK")) && running.equals(TestRig.V1),
                () -> end + " while running " + running + ", journal " + describe(journal));
    }

    /**
     * The state and journal in one read, as {@code hupd status} reads them. H2 can carry damage forward unseen
     * (pages it reads only when it next opens or writes the file), and any open, this read's too, may be the one
     * that meets it: the next power-on then finds it, keeps the file aside and rebuilds from the disk, as on a
     * device.
     */
    private static StateStore.View settledView(TestRig rig) throws Exception {
        for (int i = 0; i < 3; i++) {
            try {
                return rig.store().read(true);
            } catch (StateStore.DatabaseDamaged latent) {
                rig.powerOnUntilSettled();
            }
        }
        return fail("the database stayed unreadable through three power-ons");
    }

    private static String describe(List<JournalEntry> journal) {
        return journal.stream().map(e -> e.from() + " -" + e.event() + "-> " + e.to() + " (" + e.reason() + ")")
                .toList().toString();
    }

    @Test
    void aRebuildIsJournaledAndTheUnreadableDatabaseIsKept() throws Exception {
        TestRig rig = TestRig.create(tmp, "grub");
        rig.update(TestRig.V2);
        Path db = rig.sim.dataDir().resolve("hupd/state.mv.db");
        Files.write(db, new byte[] {1, 2, 3});
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertEquals(TestRig.V2, rig.runningVersion());
        assertTrue(rig.trace().get(0).startsWith("DATABASE_LOST -RECOVERED-> REBOOTING"), rig.trace().toString());
        assertTrue(rig.journal().get(0).reason().contains("rebuilt from the disk"));
        try (var files = Files.list(db.getParent())) {
            assertTrue(files.anyMatch(p -> p.getFileName().toString().startsWith("state.mv.db.unreadable-")));
        }
    }

    @Test
    void aLossWithNothingInFlightIsStillJournaled() throws Exception {
        TestRig rig = TestRig.create(tmp, "uboot");
        rig.update(TestRig.V2);
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        Files.write(rig.sim.dataDir().resolve("hupd/state.mv.db"), new byte[] {9, 9, 9});
        rig.powerOnUntilSettled();
        assertEquals(TestRig.V2, rig.runningVersion());
        assertEquals("IDLE", rig.state());
        var last = rig.journal().get(rig.journal().size() - 1);
        assertEquals("DATABASE_LOST", last.from());
        assertTrue(last.reason().contains("nothing on the disk shows an update in flight: running " + TestRig.V2),
                last.reason());
        assertTrue(last.reason().contains("kept as state.mv.db.unreadable-"), last.reason());
    }

    @Test
    void damageTheHeldConnectionCannotSeeIsFoundBeforeTheProcessHandsOver() throws Exception {
        TestRig rig = TestRig.create(tmp, "uboot");
        rig.update(TestRig.V2);
        Path db = rig.sim.dataDir().resolve("hupd/state.mv.db");
        // While the boot holds the database, its file is scribbled over; the held connection keeps writing
        // from what it already read, so only a fresh open sees the damage.
        rig.steps = registry -> {
            io.hupd.steps.Step commit = registry.forState(UpdateState.COMMITTING).orElseThrow();
            return registry.replace(UpdateState.COMMITTING, (ctx, log) -> {
                try (RandomAccessFile f = new RandomAccessFile(db.toFile(), "rw")) {
                    // past the file headers, which H2 rewrites when it closes: the early chunks it will not
                    f.seek(8192);
                    f.write(new byte[(int) (f.length() * 3 / 4) - 8192]);
                }
                return commit.run(ctx, log);
            });
        };
        rig.powerOnUntilSettled();
        rig.steps = java.util.function.UnaryOperator.identity();
        assertEquals(TestRig.V2, rig.runningVersion());
        assertEquals("COMMITTED", rig.state());
        var last = rig.journal().get(rig.journal().size() - 1);
        assertEquals("DATABASE_LOST", last.from(), rig.trace().toString());
        assertTrue(last.reason().contains("failed its read-back") && last.reason().contains("carried over"),
                last.reason());
        try (var files = Files.list(db.getParent())) {
            assertTrue(files.anyMatch(p -> p.getFileName().toString().startsWith("state.mv.db.unreadable-")));
        }
    }

    @Test
    void aDatabaseBehindTheSlotsItselfStillSeesTheSwitch() throws Exception {
        TestRig rig = TestRig.create(tmp, "uboot");
        Path db = rig.sim.dataDir().resolve("hupd/state.mv.db");
        Path older = tmp.resolve("state-in-LOCKED.mv.db");
        // The database as it was in LOCKED, before the update recorded its slots: what H2 gives back when it
        // falls back to an older version of a damaged file.
        java.util.function.UnaryOperator<io.hupd.runner.StepRegistry> keepACopy = registry -> {
            io.hupd.steps.Step lock = registry.forState(UpdateState.LOCKED).orElseThrow();
            return registry.replace(UpdateState.LOCKED, (ctx, log) -> {
                Files.copy(db, older, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                return lock.run(ctx, log);
            });
        };
        var crashAfterTheSwitch = Faults.at(UpdateState.SWITCHING_BOOT, Faults.Kind.CRASH_AFTER, 1);
        rig.steps = registry -> crashAfterTheSwitch.apply(keepACopy.apply(registry));
        assertThrows(Faults.SimulatedCrash.class, () -> rig.update(TestRig.V2));
        rig.steps = java.util.function.UnaryOperator.identity();
        Files.copy(older, db, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertEquals("LOCKED", rig.state());
        assertTrue(rig.sim.bootloader().read().upgradeAvailable(), "the switch was done");

        rig.powerOnUntilSettled();
        assertEquals(TestRig.V2, rig.runningVersion());
        assertEquals("COMMITTED", rig.state(), rig.trace().toString());
        assertFalse(rig.sim.bootloader().read().upgradeAvailable());
        assertTrue(rig.trace().contains("LOCKED -RECOVERED-> SWITCHING_BOOT"), rig.trace().toString());
    }
}
