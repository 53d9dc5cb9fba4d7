package io.hupd.persistence;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.machine.MachineLimits;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateEvent;
import io.hupd.machine.UpdateMachine;
import io.hupd.testkit.FileDamage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whatever a bad sector does to the database file, hupd must see it as damage (and rebuild from the disk), never
 * as an error it cannot get past: a plain IOException at boot would leave an update unresolved.
 */
class DamagedDatabaseTest {
    @TempDir
    Path tmp;
    Path pristine;

    @BeforeEach
    void aDatabaseWithAnUpdateInFlight() throws Exception {
        StateStore store = new StateStore(tmp.resolve("made"));
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        UpdateContext c = UpdateContext.builder()
                .updateId("u-1")
                .targetVersion("2.114.0")
                .images(List.of("oci:x:2.114.0"))
                .build();
        UpdateMachine.Fired f = m.start(c);
        store.record(f, f.to().phase(), m.context(), Instant.now());
        for (int i = 0; i < 6; i++) {
            f = m.fire(UpdateEvent.SUCCEEDED, "step " + i);
            store.record(f, f.to().phase(), m.context(), Instant.now());
        }
        pristine = tmp.resolve("made/state.mv.db");
    }

    private interface Damage {
        void apply(Path file) throws IOException;
    }

    /** Loads a damaged copy as hupd does at boot; returns what happened. */
    private String loadCopy(int seed, Damage damage) throws Exception {
        Path dir = tmp.resolve("case-" + seed);
        Files.createDirectories(dir);
        Files.copy(pristine, dir.resolve("state.mv.db"), StandardCopyOption.REPLACE_EXISTING);
        damage.apply(dir.resolve("state.mv.db"));
        StateStore store = new StateStore(dir);
        try {
            UpdateContext c = store.load().map(StoredState::context).orElseGet(UpdateContext::empty);
            store.lastResult();
            // Damage the first read does not touch can show when the next transition is written.
            store.record("WRITING_ROOTFS", "FAILED", "REVERTING", io.hupd.machine.Phase.BEFORE_COMMIT, "test", c,
                    Instant.now());
            store.journal("u-1");
            return "read";
        } catch (StateStore.DatabaseDamaged e) {
            return "damaged";
        } catch (IOException e) {
            fail("seed " + seed + ": damage reported as an ordinary error: " + e.getMessage());
            return "unreachable";
        }
    }

    @Test
    void flippedBitsAreReadIntactOrReportedAsDamage() throws Exception {
        int damaged = 0;
        for (int seed = 0; seed < 60; seed++) {
            long s = seed;
            String outcome = loadCopy(seed, file -> FileDamage.flipBits(file, s, 64));
            damaged += outcome.equals("damaged") ? 1 : 0;
        }
        assertTrue(damaged > 0, "64 flipped bits never noticed: is the file read at all?");
        System.out.println("damaged database copies: 60 with flipped bits, " + damaged + " seen as damage");
    }

    @Test
    void truncationAtAnyLengthIsReportedAsDamageOrReadsAnOlderVersion() throws Exception {
        long size = Files.size(pristine);
        System.out.println("damaged database copies: 24 truncated");
        for (int seed = 0; seed < 24; seed++) {
            long keep = size * seed / 24;
            loadCopy(seed, file -> FileDamage.truncate(file, keep));
        }
    }
}
