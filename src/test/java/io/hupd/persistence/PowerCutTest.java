package io.hupd.persistence;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.ports.BootSettings;
import io.hupd.testkit.TestRig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Power cuts under the database: the update runs with hupd's H2 file behind a layer that, at the cut, loses
 * every write not yet forced to disk (the last one torn). After each cut the device is powered on again.
 * Every transition hupd reported as persisted must still be in the journal, and the device must end on a
 * working OS with the database agreeing with the boot settings and the breadcrumbs.
 */
class PowerCutTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void layer() {
        PowerCutFilePath.register();
    }

    /** Transitions the update's log reported as persisted (it logs each one after the database has it). */
    private static int reportedTransitions(TestRig rig) throws Exception {
        int n = 0;
        try (Stream<Path> logs = Files.list(rig.deviceDir.resolve("data/balenahup"))) {
            for (Path log : logs.toList()) {
                for (String line : Files.readAllLines(log)) {
                    if (line.contains(" -> ") && line.contains(" on ") || line.contains(" in ") && line.contains("RESUME")) {
                        n++;
                    }
                }
            }
        }
        return n;
    }

    private static boolean causedByCut(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof PowerCutFilePath.PowerCut) {
                return true;
            }
        }
        return false;
    }

    @ParameterizedTest
    @EnumSource(TestRig.ImageKind.class)
    void everyReportedTransitionSurvivesACutAtAnyWrite(TestRig.ImageKind kind) throws Exception {
        TestRig template = TestRig.create(tmp.resolve("template"), "uboot", kind);
        TestRig clean = template.copy(tmp.resolve("clean"));
        clean.h2Scheme = "powercut:";
        PowerCutFilePath.cutBeforeWrite(-1);
        clean.update(TestRig.V2);
        clean.powerOnUntilSettled();
        long writes = PowerCutFilePath.writes();
        assertTrue(writes > 20, "too few database writes to cut at: " + writes);

        Map<String, Integer> endings = new TreeMap<>();
        int cases = 0;
        long stride = Boolean.getBoolean("hupd.soak") ? 1 : Math.max(1, writes / 30);
        long first = Long.getLong("hupd.cutFrom", 0);
        for (long k = first; k < writes; k += stride) {
            TestRig rig = template.copy(tmp.resolve("cut" + k));
            rig.h2Scheme = "powercut:";
            PowerCutFilePath.cutBeforeWrite((int) k);
            String ctx = "cut before database write " + k + " of " + writes;
            boolean cutHappened = false;
            try {
                rig.update(TestRig.V2);
                rig.powerOnUntilSettled();
            } catch (Throwable t) {
                // H2 wraps what its file system throws; the cut must be somewhere in the chain
                if (!causedByCut(t)) {
                    throw t;
                }
                cutHappened = true;
            }
            if (cutHappened) {
                int reported = reportedTransitions(rig);
                PowerCutFilePath.cut(true);
                rig.h2Scheme = "file:";
                // What the disk kept: every transition reported before the cut (or the database is rebuilt).
                try {
                    int kept = rig.store().journal(null).size();
                    if (kept < reported) {
                        System.out.println("JOURNAL " + rig.store().journal(null));
                        try (Stream<Path> logs = Files.list(rig.deviceDir.resolve("data/balenahup"))) {
                            for (Path log : logs.toList()) {
                                System.out.println("LOG " + Files.readString(log));
                            }
                        }
                    }
                    assertTrue(kept >= reported, ctx + ": " + reported + " transitions reported, " + kept + " kept");
                } catch (java.io.IOException damaged) {
                    // the torn write hit a page the next open cannot read: recovery rebuilds from the disk
                    endings.merge("database rebuilt", 1, Integer::sum);
                }
                rig.powerOnUntilSettled();
            }
            PowerCutFilePath.cutBeforeWrite(-1);
            rig.h2Scheme = "file:";
            String running = rig.runningVersion();
            String state = rig.state();
            assertTrue(running.equals(TestRig.V1) && !state.equals("COMMITTED")
                    || running.equals(TestRig.V2) && state.equals("COMMITTED"), ctx + ": " + state + " on " + running);
            assertEquals(new BootSettings(rig.ports().slots().partitionOf(rig.sim.bootedSlot()), false, 0),
                    rig.sim.bootloader().read(), ctx);
            assertEquals(List.of(), rig.sim.state().breadcrumbs(), ctx);
            endings.merge(running + " " + state, 1, Integer::sum);
            cases++;
        }
        System.out.println("power cuts: " + writes + " database writes, " + cases + " cut points, endings " + endings
                + " (" + kind + ")");
    }
}
