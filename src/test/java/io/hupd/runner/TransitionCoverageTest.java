package io.hupd.runner;

import static io.hupd.machine.UpdateState.*;
import static org.junit.jupiter.api.Assertions.*;

import io.hupd.machine.MachineLimits;
import io.hupd.machine.Transition;
import io.hupd.machine.TransitionTable;
import io.hupd.machine.UpdateState;
import io.hupd.persistence.JournalEntry;
import io.hupd.ports.BootSettings;
import io.hupd.testkit.Faults;
import io.hupd.testkit.Faults.Kind;
import io.hupd.testkit.Faults.SimulatedCrash;
import io.hupd.testkit.TestRig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Drives real updates on a simulated device through every row of the transition table — failures, crashes and
 * restarts in every state, the attempt limit, aborts, the loop guard — and fails when a row is never taken
 * (Temporal's coverage gate). Each scenario also checks where the device ended.
 */
class TransitionCoverageTest {
    private static final Set<String> TAKEN = ConcurrentHashMap.newKeySet();
    private static final Set<String> METHODS_RUN = ConcurrentHashMap.newKeySet();

    @org.junit.jupiter.api.BeforeEach
    void noteMethod(org.junit.jupiter.api.TestInfo info) {
        info.getTestMethod().ifPresent(m -> METHODS_RUN.add(m.getName()));
    }

    @TempDir
    Path tmp;

    static Stream<UpdateState> beforeCommit() {
        return TransitionTable.BEFORE_COMMIT_PATH.stream();
    }

    static Stream<UpdateState> revertible() {
        return beforeCommit().filter(s -> s != LOCKED && s != PREFLIGHT);
    }

    private TestRig rig() throws Exception {
        return TestRig.create(tmp, "uboot");
    }

    private static void record(TestRig rig) throws Exception {
        for (JournalEntry e : rig.journal()) {
            TAKEN.add(e.from() + " " + e.event() + " " + e.to());
        }
    }

    /** The device is as the update found it: old OS, settings on it, no breadcrumbs, supervisor running. */
    private static void assertReverted(TestRig rig) throws Exception {
        assertEquals("FAILED", rig.state());
        assertEquals(TestRig.V1, rig.runningVersion());
        assertEquals(new BootSettings(2, false, 0), rig.sim.bootloader().read());
        assertEquals(List.of(), rig.sim.state().breadcrumbs());
        assertTrue(rig.ports().supervisor().isRunning(), "supervisor running again");
        assertEquals("user data\n", Files.readString(rig.deviceDir.resolve("data/user/notes.txt")));
    }

    private static UpdateState crashing(ThrowingCall call) throws Exception {
        try {
            return call.run();
        } catch (SimulatedCrash expected) {
            return null;
        }
    }

    interface ThrowingCall {
        UpdateState run() throws Exception;
    }

    @Test
    void goodUpdateThenAnotherFromCommitted() throws Exception {
        TestRig rig = rig();
        rig.update(TestRig.V2);
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        // START from COMMITTED: the same version again is refused by preflight (PREFLIGHT -FAILED-> FAILED) …
        assertEquals(UpdateState.FAILED, rig.update(TestRig.V2));
        assertTrue(rig.store().load().orElseThrow().context().reason().contains("not newer"));
        record(rig);
        // … and START from FAILED works.
        assertEquals(UpdateState.REBOOTING, rig.service(rig.ports()).update(
                new UpdateRequest(TestRig.V2, List.of(rig.ref(TestRig.V2)), null, false, true)));
        record(rig);
    }

    @Test
    void rollbacksThenStartAgain() throws Exception {
        TestRig rig = rig();
        rig.update(TestRig.BROKEN);
        rig.powerOnUntilSettled();
        assertEquals("ROLLED_BACK_HEALTH", rig.state());
        rig.update(TestRig.UNBOOTABLE);
        rig.powerOnUntilSettled();
        assertEquals("ROLLED_BACK_ALTBOOT", rig.state());
        rig.update(TestRig.V2);
        record(rig);
        assertEquals("REBOOTING", rig.state());
    }

    @ParameterizedTest
    @MethodSource("beforeCommit")
    void failureInEachStateEndsFailedWithTheDeviceAsItWas(UpdateState state) throws Exception {
        TestRig rig = rig();
        rig.steps = Faults.at(state, Kind.FAIL, 1);
        assertEquals(UpdateState.FAILED, rig.update(TestRig.V2));
        assertReverted(rig);
        String reason = rig.store().load().orElseThrow().context().reason();
        assertTrue(reason.contains("injected failure in " + state), reason);
        record(rig);
    }

    @ParameterizedTest
    @MethodSource("beforeCommit")
    void crashInEachStateIsResumedByTheNextRun(UpdateState state) throws Exception {
        TestRig rig = rig();
        // A crash before the switch's write is resumed; after it, the settings show the switch done.
        Kind kind = state == SWITCHING_BOOT ? Kind.CRASH_BEFORE : Kind.CRASH_AFTER;
        rig.steps = Faults.at(state, kind, 1);
        assertNull(crashing(() -> rig.update(TestRig.V2)));
        assertEquals(state.name(), rig.state());
        assertEquals(UpdateState.REBOOTING, rig.update(TestRig.V2), "the same update, run again, resumes");
        assertTrue(rig.trace().contains(state + " -RESUME-> " + state), rig.trace().toString());
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertEquals(TestRig.V2, rig.runningVersion());
        record(rig);
    }

    @Test
    void crashRightAfterTheSwitchIsRecoveredFromTheBootSettings() throws Exception {
        TestRig rig = rig();
        rig.steps = Faults.at(SWITCHING_BOOT, Kind.CRASH_AFTER, 1);
        assertNull(crashing(() -> rig.update(TestRig.V2)));
        // Power cut: the device boots; recovery reads the switch from the boot settings and verifies the boot.
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertTrue(rig.trace().contains("SWITCHING_BOOT -SUCCEEDED-> REBOOTING"));
        assertEquals(TestRig.V2, rig.runningVersion());
        record(rig);
    }

    @ParameterizedTest
    @MethodSource("beforeCommit")
    void anUpdateInterruptedThreeTimesIsReverted(UpdateState state) throws Exception {
        TestRig rig = rig();
        rig.steps = Faults.at(state, Kind.CRASH_BEFORE, 3);
        for (int i = 0; i < 3; i++) {
            assertNull(crashing(() -> rig.update(TestRig.V2)), "run " + (i + 1) + " crashes");
        }
        assertEquals(UpdateState.FAILED, rig.update(TestRig.V2));
        assertReverted(rig);
        String reason = rig.store().load().orElseThrow().context().reason();
        assertTrue(reason.startsWith("attempt limit reached"), reason);
        record(rig);
    }

    @ParameterizedTest
    @MethodSource("beforeCommit")
    void abortOfAnInterruptedUpdateReverts(UpdateState state) throws Exception {
        TestRig rig = rig();
        rig.steps = Faults.at(state, Kind.CRASH_BEFORE, 1);
        assertNull(crashing(() -> rig.update(TestRig.V2)));
        assertEquals(UpdateState.FAILED, rig.service(rig.ports()).abort());
        assertReverted(rig);
        assertTrue(rig.trace().contains(state + " -ABORT-> REVERTING"));
        record(rig);
    }

    @ParameterizedTest
    @MethodSource("beforeCommit")
    void anUpdateThatLoopsIsStopped(UpdateState state) throws Exception {
        TestRig rig = rig();
        rig.limits = new MachineLimits(1000, 12);
        rig.steps = Faults.at(state, Kind.CRASH_BEFORE, 1000);
        UpdateState end = null;
        for (int i = 0; i < 20 && end == null; i++) {
            end = crashing(() -> rig.update(TestRig.V2));
        }
        assertEquals(UpdateState.FAILED, end);
        assertReverted(rig);
        assertTrue(rig.store().load().orElseThrow().context().reason().startsWith("loop detected"));
        record(rig);
    }

    @Test
    void anInterruptedUpdateIsRevertedWhenAnotherTargetIsAskedFor() throws Exception {
        TestRig rig = rig();
        rig.steps = Faults.at(UPDATING_BOOT_FILES, Kind.CRASH_AFTER, 1);
        assertNull(crashing(() -> rig.update(TestRig.V2)));
        assertEquals(UpdateState.REBOOTING, rig.update(TestRig.BROKEN));
        List<String> trace = rig.trace();
        assertTrue(trace.contains("UPDATING_BOOT_FILES -ABORT-> REVERTING"), trace.toString());
        assertTrue(trace.contains("FAILED -START-> LOCKED"), trace.toString());
        String firstReason = rig.journal().stream().filter(e -> e.event().equals("ABORT")).findFirst().orElseThrow()
                .reason();
        assertEquals("superseded by an update to " + TestRig.BROKEN, firstReason);
        record(rig);
    }

    @Test
    void crashWhileRevertingIsResumed() throws Exception {
        TestRig rig = rig();
        var crashInRevert = Faults.at(REVERTING, Kind.CRASH_BEFORE, 1);
        var failFetch = Faults.at(FETCHING, Kind.FAIL, 1);
        rig.steps = r -> crashInRevert.apply(failFetch.apply(r));
        assertNull(crashing(() -> rig.update(TestRig.V2)));
        assertEquals("REVERTING", rig.state());
        rig.powerOnUntilSettled();
        assertReverted(rig);
        assertTrue(rig.trace().contains("REVERTING -RESUME-> REVERTING"));
        record(rig);
    }

    @Test
    void powerCutsAndRestartsDuringTheTrialAreSurvived() throws Exception {
        for (UpdateState s : List.of(CHECKING_ALTBOOT, HEALTH_CHECKING)) {
            // A power cut in the check: the next power-on verifies the boot again.
            TestRig rig = TestRig.create(tmp.resolve("cut-" + s), "uboot");
            rig.update(TestRig.V2);
            rig.steps = Faults.at(s, Kind.CRASH_BEFORE, 1);
            assertThrows(SimulatedCrash.class, rig::powerOn);
            rig.steps = java.util.function.UnaryOperator.identity();
            rig.powerOnUntilSettled();
            assertEquals("COMMITTED", rig.state());
            assertTrue(rig.trace().contains(s + " -BOOTED-> CHECKING_ALTBOOT"), rig.trace().toString());
            record(rig);

            // hupd restarted without a reboot: the interrupted check runs again.
            TestRig rig2 = TestRig.create(tmp.resolve("restart-" + s), "uboot");
            rig2.update(TestRig.V2);
            rig2.steps = Faults.at(s, Kind.CRASH_BEFORE, 1);
            assertThrows(SimulatedCrash.class, rig2::powerOn);
            rig2.steps = java.util.function.UnaryOperator.identity();
            assertEquals(UpdateState.COMMITTED, rig2.update(TestRig.V2));
            assertTrue(rig2.trace().contains(s + " -RESUME-> " + s), rig2.trace().toString());
            record(rig2);
        }
    }

    @Test
    void crashesInCommitAndRollbacksAreFinishedAtTheNextPowerOn() throws Exception {
        Object[][] cases = {{COMMITTING, TestRig.V2, "COMMITTED", TestRig.V2},
                {ROLLING_BACK_HEALTH, TestRig.BROKEN, "ROLLED_BACK_HEALTH", TestRig.V1},
                {ROLLING_BACK_ALTBOOT, TestRig.UNBOOTABLE, "ROLLED_BACK_ALTBOOT", TestRig.V1}};
        for (Object[] c : cases) {
            UpdateState s = (UpdateState) c[0];
            TestRig rig = TestRig.create(tmp.resolve(s.name()), "uboot");
            rig.update((String) c[1]);
            rig.steps = Faults.at(s, Kind.CRASH_AFTER, 1);
            UpdateState end = null;
            for (int i = 0; i < 10 && end == null; i++) {
                try {
                    rig.powerOnUntilSettled();
                    end = UpdateState.valueOf(rig.state());
                } catch (SimulatedCrash expected) {
                    // the power cut; the loop powers on again
                }
            }
            assertEquals(c[2], rig.state());
            assertEquals(c[3], rig.runningVersion());
            assertTrue(rig.trace().contains(s + " -RESUME-> " + s), rig.trace().toString());
            assertEquals(List.of(), rig.sim.state().breadcrumbs());
            record(rig);
        }
    }

    @Test
    void aTrialThatLoopsIsRolledBack() throws Exception {
        // The ceiling is met at REBOOTING's BOOTED, at CHECKING_ALTBOOT's and at HEALTH_CHECKING's outcome.
        for (int ceiling : new int[] {10, 11, 12}) {
            TestRig rig = TestRig.create(tmp.resolve("loop" + ceiling), "uboot");
            rig.limits = new MachineLimits(3, ceiling);
            rig.update(TestRig.V2);
            rig.powerOnUntilSettled();
            assertEquals("ROLLED_BACK_HEALTH", rig.state(), "ceiling " + ceiling);
            assertEquals(TestRig.V1, rig.runningVersion());
            assertTrue(rig.store().load().orElseThrow().context().reason().startsWith("loop detected"));
            record(rig);
        }
    }

    @AfterAll
    static void everyRowOfTheTableWasTaken() {
        long declared = java.util.Arrays.stream(TransitionCoverageTest.class.getDeclaredMethods())
                .filter(m -> m.isAnnotationPresent(Test.class) || m.isAnnotationPresent(ParameterizedTest.class))
                .count();
        if (METHODS_RUN.size() < declared) {
            // a developer ran a few of these scenarios by name: the gate needs them all
            System.out.println("transition coverage not checked: " + METHODS_RUN.size() + " of " + declared
                    + " scenario methods ran");
            return;
        }
        Set<String> missing = new TreeSet<>();
        for (Transition t : TransitionTable.ROWS) {
            String key = t.source() + " " + t.journaledEvent() + " " + t.target();
            if (!TAKEN.contains(key)) {
                missing.add(key);
            }
        }
        assertEquals(Set.of(), missing, "transitions no test takes (add a scenario to TransitionCoverageTest)");
    }
}
