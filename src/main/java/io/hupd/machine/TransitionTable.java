package io.hupd.machine;

import static io.hupd.machine.TransitionAction.*;
import static io.hupd.machine.TransitionGuard.*;
import static io.hupd.machine.UpdateEvent.*;
import static io.hupd.machine.UpdateState.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every transition of the update, in one table. The Spring Statemachine definition, the diagrams and the
 * transition-coverage test are all built from these rows; nothing else decides where an update goes next.
 */
public final class TransitionTable {
    /** The states an update passes before the commit point, in order. */
    public static final List<UpdateState> BEFORE_COMMIT_PATH = List.of(LOCKED, PREFLIGHT, STOPPING_SUPERVISOR,
            FETCHING, WRITING_ROOTFS, UPDATING_BOOT_FILES, UPDATING_SUPERVISOR, ARMING_ROLLBACKS, SWITCHING_BOOT);

    public static final List<Transition> ROWS = checked(build());

    private TransitionTable() {}

    private static List<Transition> build() {
        List<Transition> t = new ArrayList<>();
        for (UpdateState s : List.of(IDLE, COMMITTED, ROLLED_BACK_HEALTH, ROLLED_BACK_ALTBOOT, UpdateState.FAILED)) {
            t.add(new Transition(s, START, LOCKED, null, BEGIN_UPDATE));
        }

        // The happy path up to the commit point, one state after the other.
        for (int i = 0; i < BEFORE_COMMIT_PATH.size(); i++) {
            UpdateState s = BEFORE_COMMIT_PATH.get(i);
            UpdateState next = i + 1 < BEFORE_COMMIT_PATH.size() ? BEFORE_COMMIT_PATH.get(i + 1) : REBOOTING;
            t.add(new Transition(s, SUCCEEDED, next, null, null));
        }
        // Lock and coherence checks change nothing on the device, so their failures need no revert.
        t.add(new Transition(LOCKED, UpdateEvent.FAILED, UpdateState.FAILED, null, RECORD_REASON));
        t.add(new Transition(PREFLIGHT, UpdateEvent.FAILED, UpdateState.FAILED, null, RECORD_REASON));
        for (UpdateState s : BEFORE_COMMIT_PATH) {
            if (s != LOCKED && s != PREFLIGHT) {
                t.add(new Transition(s, UpdateEvent.FAILED, REVERTING, null, RECORD_REASON));
            }
        }
        // Recovery before the commit point: run the interrupted state again, until the attempt limit.
        for (UpdateState s : BEFORE_COMMIT_PATH) {
            t.add(new Transition(s, RESUME, s, ATTEMPTS_LEFT, COUNT_ATTEMPT));
            t.add(new Transition(s, RESUME, REVERTING, ATTEMPT_LIMIT_REACHED, RECORD_ATTEMPT_LIMIT));
            t.add(new Transition(s, ABORT, REVERTING, null, RECORD_REASON));
            t.add(new Transition(s, LOOP_DETECTED, REVERTING, null, RECORD_REASON));
        }
        t.add(new Transition(REVERTING, SUCCEEDED, UpdateState.FAILED, null, null));
        t.add(new Transition(REVERTING, RESUME, REVERTING, null, null));

        // After the commit point (SPEC §5): the altboot guard first, then health, then commit or roll back.
        t.add(new Transition(REBOOTING, BOOTED, CHECKING_ALTBOOT, null, null));
        // The checks gather the facts (their Finding); these guards, not the checks, choose the way.
        t.add(new Transition(CHECKING_ALTBOOT, SUCCEEDED, HEALTH_CHECKING, NEW_OS_CAME_UP, null));
        t.add(new Transition(CHECKING_ALTBOOT, SUCCEEDED, ROLLING_BACK_ALTBOOT, BOOTLOADER_FELL_BACK, RECORD_REASON));
        t.add(new Transition(HEALTH_CHECKING, SUCCEEDED, COMMITTING, HEALTHY, null));
        t.add(new Transition(HEALTH_CHECKING, SUCCEEDED, ROLLING_BACK_HEALTH, TransitionGuard.UNHEALTHY,
                RECORD_REASON));
        // A reboot during the trial (clean, or a power cut) starts the verification again from the altboot guard.
        for (UpdateState s : List.of(CHECKING_ALTBOOT, HEALTH_CHECKING)) {
            t.add(new Transition(s, BOOTED, CHECKING_ALTBOOT, null, null));
            t.add(new Transition(s, RESUME, s, null, null));
        }
        // A trial that loops (reboots again and again) is ended by putting the old OS back.
        for (UpdateState s : List.of(REBOOTING, CHECKING_ALTBOOT, HEALTH_CHECKING)) {
            t.add(new Transition(s, LOOP_DETECTED, ROLLING_BACK_HEALTH, null, RECORD_REASON));
        }
        // Commit and the rollbacks are idempotent and short: after a crash or a reboot they simply run again.
        for (UpdateState s : List.of(COMMITTING, ROLLING_BACK_HEALTH, ROLLING_BACK_ALTBOOT)) {
            t.add(new Transition(s, RESUME, s, null, null));
        }
        t.add(new Transition(COMMITTING, SUCCEEDED, COMMITTED, null, null));
        t.add(new Transition(ROLLING_BACK_HEALTH, SUCCEEDED, ROLLED_BACK_HEALTH, null, null));
        t.add(new Transition(ROLLING_BACK_ALTBOOT, SUCCEEDED, ROLLED_BACK_ALTBOOT, null, null));
        return t;
    }

    /**
     * States whose work needs the supervisor stopped (SPEC §3 step 3): when one is resumed after a reboot, the
     * supervisor that the boot started is stopped again first.
     */
    public static boolean needsSupervisorStopped(UpdateState s) {
        int i = BEFORE_COMMIT_PATH.indexOf(s);
        return i > BEFORE_COMMIT_PATH.indexOf(STOPPING_SUPERVISOR);
    }

    /**
     * The rows, refused unless they make a machine that can always tell where to go: no two rows for the same
     * source, event and guard (nor the same source, event and target, which the journal and the diagrams could
     * not tell apart); nothing leaves a state that ends an update except START; and where a (source, event) is
     * guarded, its rows are exactly a guard and its complement, so that one and only one applies.
     *
     * @throws IllegalArgumentException naming the first offending rows
     */
    public static List<Transition> checked(List<Transition> rows) {
        Map<String, Transition> bySourceEventGuard = new HashMap<>();
        Map<String, Transition> bySourceEventTarget = new HashMap<>();
        Map<String, List<Transition>> bySourceEvent = new LinkedHashMap<>();
        for (Transition r : rows) {
            String pair = r.source() + " -" + r.event() + "->";
            Transition dup = bySourceEventGuard.putIfAbsent(pair + " [" + r.guard() + "]", r);
            if (dup != null) {
                throw new IllegalArgumentException("two rows for " + pair + " with guard " + r.guard() + ": " + dup
                        + " and " + r);
            }
            dup = bySourceEventTarget.putIfAbsent(pair + " " + r.target(), r);
            if (dup != null) {
                throw new IllegalArgumentException("two rows for " + pair + " " + r.target() + ": " + dup + " and "
                        + r);
            }
            if (r.source().phase() == Phase.DONE && r.event() != START) {
                throw new IllegalArgumentException("a row leaves the final state " + r.source() + " on " + r.event()
                        + " (only START may): " + r);
            }
            bySourceEvent.computeIfAbsent(pair, k -> new ArrayList<>()).add(r);
        }
        for (Map.Entry<String, List<Transition>> e : bySourceEvent.entrySet()) {
            List<Transition> same = e.getValue();
            if (same.size() == 1 && same.get(0).guard() == null) {
                continue;
            }
            boolean complementary = same.size() == 2 && same.get(0).guard() != null && same.get(1).guard() != null
                    && same.get(0).guard().complement() == same.get(1).guard();
            if (!complementary) {
                throw new IllegalArgumentException(e.getKey() + " is guarded but its rows are not one guard and"
                        + " its complement: " + same);
            }
        }
        return List.copyOf(rows);
    }

    /** Whether the way {@code event} takes out of {@code source} is chosen on a check's {@link Finding}. */
    public static boolean decidedByFinding(UpdateState source, UpdateEvent event) {
        return ROWS.stream().anyMatch(r -> r.source() == source && r.event() == event && r.guard() != null
                && r.guard().readsFinding());
    }

    /** The row a fired event took (the table has at most one per source, event and target). */
    public static Transition taken(UpdateState source, UpdateEvent event, UpdateState target) {
        return ROWS.stream().filter(r -> r.source() == source && r.event() == event && r.target() == target)
                .findFirst().orElseThrow(() -> new IllegalStateException("no row " + source + " -" + event + "-> "
                        + target));
    }

    public static boolean accepts(UpdateState source, UpdateEvent event) {
        return ROWS.stream().anyMatch(r -> r.source() == source && r.event() == event);
    }
}
