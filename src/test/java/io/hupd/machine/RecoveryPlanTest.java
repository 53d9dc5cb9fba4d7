package io.hupd.machine;

import static io.hupd.machine.UpdateState.*;
import static org.junit.jupiter.api.Assertions.*;

import io.hupd.machine.RecoveryPlan.Fire;
import io.hupd.machine.RecoveryPlan.Journal;
import io.hupd.machine.RecoveryPlan.Move;
import io.hupd.machine.RecoveryPlan.Rebuild;
import io.hupd.machine.RecoveryTable.Known;
import io.hupd.machine.RecoveryTable.Missing;
import io.hupd.machine.RecoveryTable.Stored;
import io.hupd.machine.RecoveryTable.Trigger;
import io.hupd.machine.RecoveryTable.Unknown;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Recovery planning as the pure function it is: every stored state (known, with and without its slots; unknown,
 * per phase; missing) against each kind of ground truth, for both triggers, with no disk.
 */
class RecoveryPlanTest {
    /** Slot A is partition 2, slot B partition 3; the update writes B. */
    static final Map<String, GroundTruth> TRUTHS = new LinkedHashMap<>();

    static {
        TRUTHS.put("clean", new GroundTruth("A", new GroundTruth.Settings(false, 2, "A", 0), null, false, List.of()));
        TRUTHS.put("trial booted", new GroundTruth("B", new GroundTruth.Settings(true, 3, "B", 1), null, true,
                List.of("u1")));
        TRUTHS.put("trial still to come", new GroundTruth("A", new GroundTruth.Settings(true, 3, "B", 0), null,
                true, List.of("u1")));
        TRUTHS.put("fell back", new GroundTruth("A", new GroundTruth.Settings(false, 2, "A", 3), null, true,
                List.of("u1")));
        TRUTHS.put("leftovers only", new GroundTruth("A", new GroundTruth.Settings(false, 2, "A", 0), null, false,
                List.of("u2", "u1")));
        TRUTHS.put("unreadable settings", new GroundTruth("A", null, "bad CRC", true, List.of()));
    }

    static List<Stored> allStored() {
        List<Stored> all = new ArrayList<>();
        for (UpdateState s : UpdateState.values()) {
            all.add(new Known(s, "B"));
            all.add(new Known(s, null));
        }
        for (Phase p : Phase.values()) {
            all.add(new Unknown("FROM_A_NEWER_HUPD", p, "B"));
        }
        all.add(new Missing(null));
        all.add(new Missing("unreadable (bad page); kept as state.mv.db.unreadable-1"));
        return all;
    }

    private static String plan(Stored s, String truth, Trigger t) {
        return RecoveryTable.plan(s, TRUTHS.get(truth), t).describe();
    }

    @Test
    void selectedRowsPlanAsTheTableSays() {
        Known fetching = new Known(FETCHING, "B");
        assertEquals("restore FETCHING; load -; recover fire RESUME", plan(fetching, "clean", Trigger.POWER_ON));
        assertEquals("restore FETCHING; load -; recover journal FETCHING->SWITCHING_BOOT, fire SUCCEEDED, fire BOOTED",
                plan(fetching, "trial booted", Trigger.POWER_ON), "behind the boot settings");
        assertEquals("restore FETCHING; load -; recover journal FETCHING->SWITCHING_BOOT, fire SUCCEEDED",
                plan(fetching, "trial booted", Trigger.PROCESS_RESTART));
        assertEquals("restore LOCKED; load -; recover adopt spare B, journal LOCKED->SWITCHING_BOOT, fire SUCCEEDED",
                plan(new Known(LOCKED, null), "trial still to come", Trigger.POWER_ON),
                "slots from the trial; the switch completed after this boot: reboot into the trial");
        assertEquals("restore FETCHING; load -; recover stop: settings unreadable",
                plan(fetching, "unreadable settings", Trigger.POWER_ON));
        assertEquals("restore SWITCHING_BOOT; load -; recover fire RESUME",
                plan(new Known(SWITCHING_BOOT, "B"), "clean", Trigger.POWER_ON));
        assertEquals("restore REBOOTING; load -; recover fire BOOTED",
                plan(new Known(REBOOTING, "B"), "fell back", Trigger.POWER_ON));
        assertEquals("restore REBOOTING; load -; recover -",
                plan(new Known(REBOOTING, "B"), "trial booted", Trigger.PROCESS_RESTART));
        assertEquals("restore REVERTING; load -; recover journal FROM_A_NEWER_HUPD->REVERTING as reason",
                plan(new Unknown("FROM_A_NEWER_HUPD", Phase.BEFORE_COMMIT, "B"), "clean", Trigger.POWER_ON));
        assertEquals("restore REBOOTING; load -; recover fire BOOTED",
                plan(new Unknown("FROM_A_NEWER_HUPD", Phase.AFTER_COMMIT, "B"), "clean", Trigger.POWER_ON));
        assertEquals("restore FAILED; load -; recover -",
                plan(new Unknown("FROM_A_NEWER_HUPD", Phase.DONE, "B"), "trial booted", Trigger.POWER_ON));
        assertEquals("restore null; load rebuild REBOOTING A->B; recover fire BOOTED",
                plan(new Missing(null), "trial booted", Trigger.POWER_ON), "database lost, trial on");
        assertEquals("restore null; load rebuild REVERTING A->B; recover fire RESUME",
                plan(new Missing(null), "leftovers only", Trigger.POWER_ON), "database lost, half done");
        assertEquals("restore null; load -; recover -", plan(new Missing(null), "clean", Trigger.POWER_ON));
        assertEquals("restore null; load note loss; recover -",
                plan(new Missing("unreadable"), "clean", Trigger.POWER_ON), "a loss is journaled even when idle");
        assertEquals("restore null; load stop: settings unreadable; recover -",
                plan(new Missing(null), "unreadable settings", Trigger.POWER_ON));
    }

    @Test
    void aTrialWithoutBreadcrumbsIsRebuiltArmed() {
        GroundTruth unguarded = new GroundTruth("B", new GroundTruth.Settings(true, 3, "B", 1), null, false,
                List.of());
        Rebuild r = (Rebuild) RecoveryTable.plan(new Missing(null), unguarded, Trigger.POWER_ON).onLoad().get(0);
        assertTrue(r.armTrial());
        assertEquals("boot settings name partition 3 with upgrade_available=1", r.evidence());
    }

    @Test
    void everyPlanIsOneTheMachineTakesAndNoneRunsPreCommitWorkOnASwitchedDevice() {
        int plans = 0;
        for (Stored stored : allStored()) {
            for (Map.Entry<String, GroundTruth> truth : TRUTHS.entrySet()) {
                for (Trigger trigger : Trigger.values()) {
                    String at = stored + " / " + truth.getKey() + " / " + trigger;
                    RecoveryPlan plan = RecoveryTable.plan(stored, truth.getValue(), trigger);
                    UpdateState end = walk(plan, at);
                    plans++;
                    if (stored instanceof Known k && (k.state() == IDLE || k.state().phase() == Phase.DONE)) {
                        assertEquals(k.state(), end, at);
                        assertTrue(plan.onLoad().isEmpty() && plan.onRecover().isEmpty(), at);
                    }
                    if (truth.getValue().settings() != null && truth.getValue().switchedTo("B")
                            && stored instanceof Known k && k.state().phase() == Phase.BEFORE_COMMIT
                            && k.state() != REVERTING) {
                        assertTrue(end.phase() == Phase.AFTER_COMMIT, at + " ends in " + end);
                    }
                    if (trigger == Trigger.POWER_ON && stored instanceof Known k
                            && List.of(REBOOTING, CHECKING_ALTBOOT, HEALTH_CHECKING).contains(k.state())) {
                        assertEquals(List.of("fire BOOTED"), plan.onRecover().stream()
                                .map(m -> ((Fire) m).event()).map(e -> "fire " + e).toList(), at);
                    }
                }
            }
        }
        assertEquals(allStored().size() * TRUTHS.size() * 2, plans);
    }

    /** Carries a plan out on a real machine: every event it fires must be one the table takes there. */
    private static UpdateState walk(RecoveryPlan plan, String at) {
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        UpdateContext ctx = UpdateContext.builder()
                .updateId("u1")
                .build();
        if (plan.restoreAs() != null) {
            m.restore(plan.restoreAs(), ctx);
        }
        List<Move> moves = new ArrayList<>(plan.onLoad());
        moves.addAll(plan.onRecover());
        for (Move move : moves) {
            if (move instanceof Rebuild r) {
                m.restore(r.state(), ctx);
            } else if (move instanceof Journal j) {
                m.restore(j.to(), ctx);
            } else if (move instanceof Fire f) {
                assertTrue(m.accepts(f.event()), at + ": " + f.event() + " in " + m.state());
                m.fire(f.event(), f.reason());
            }
        }
        return m.state();
    }
}
