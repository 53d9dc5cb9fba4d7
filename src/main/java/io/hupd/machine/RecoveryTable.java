package io.hupd.machine;

import static io.hupd.machine.UpdateState.*;

import io.hupd.machine.RecoveryPlan.AdoptTrialSlots;
import io.hupd.machine.RecoveryPlan.Fire;
import io.hupd.machine.RecoveryPlan.Journal;
import io.hupd.machine.RecoveryPlan.Move;
import io.hupd.machine.RecoveryPlan.NoteLoss;
import io.hupd.machine.RecoveryPlan.Rebuild;
import io.hupd.machine.RecoveryPlan.StopOnUnreadableSettings;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What hupd does with a persisted state when it starts again (SPEC §6): every state maps to exactly one action
 * per trigger. A power-on means the device rebooted (the bootloader has chosen a root); a process restart means
 * hupd died but the OS kept running. Before that table, the device's ground truth may overrule the database
 * ({@link Overrule}); {@link #plan} decides both, without touching the device.
 */
public final class RecoveryTable {
    public enum Trigger { POWER_ON, PROCESS_RESTART }

    /**
     * The journal's event for a move recovery makes without the machine (no row of the table applies): out of a
     * state this hupd does not know, after a lost database, or onto the boot settings' truth.
     */
    public static final String RECOVERED = "RECOVERED";

    public enum Action {
        /** No update in flight. */
        NOTHING,
        /** Run the interrupted state again from its start (the RESUME event; the attempt limit may revert). */
        RESUME,
        /** The switch is the commit point: read the boot settings to learn whether it happened, then resume or go on. */
        ASK_BOOT_SETTINGS,
        /** After the commit point, a power-on: verify the boot (the BOOTED event). */
        VERIFY_BOOT,
        /** After the commit point, hupd restarted without a reboot: nothing to do until the device reboots. */
        WAIT_FOR_REBOOT,
        /** A state this hupd does not know, before the commit point: revert. */
        REVERT_UNKNOWN
    }

    /**
     * The rows that come before the per-state table: where the database is gone, names a state this hupd does
     * not know, or is behind what the boot settings show, the ground truth decides. {@link #plan} applies them in
     * this order (each is named where it is decided).
     */
    public enum Overrule {
        LOST_DATABASE_TRIAL_ON("no database, and the boot settings hold a trial: the switch happened; the update is"
                + " rebuilt as `REBOOTING` (the breadcrumbs armed again if they are gone), then the table's row"),
        LOST_DATABASE_HALF_DONE("no database, no trial, but breadcrumbs or an update's leftovers in the data"
                + " partition: rebuilt as `REVERTING`, then the table's row"),
        LOST_DATABASE_NOTHING_IN_FLIGHT("no database and nothing on the disk shows an update: `IDLE` (a database"
                + " that was lost, not just absent, is journaled)"),
        UNKNOWN_STATE("a state this hupd does not know: loaded as the safe state of its phase (`REVERTING`,"
                + " `REBOOTING`, or `FAILED`), then the phase's row below"),
        SLOTS_FROM_THE_TRIAL("before the switch with no slots recorded yet: a trial in the boot settings can only"
                + " be this update's, so it names the spare slot"),
        BEHIND_THE_BOOT_SETTINGS("a state before the switch, but the boot settings show the switch to this update's"
                + " spare slot (an older copy of the database came back): journaled into `SWITCHING_BOOT`, then"
                + " `ASK_BOOT_SETTINGS`");

        private final String meaning;

        Overrule(String meaning) {
            this.meaning = meaning;
        }

        /** What the row says, for the generated recovery table. */
        public String meaning() {
            return meaning;
        }
    }

    /** What the database holds when hupd starts. */
    public sealed interface Stored {}

    /** A state this hupd knows; {@code spareSlot} as its context records it (null before LOCKED recorded it). */
    public record Known(UpdateState state, String spareSlot) implements Stored {}

    /** A state name written by a newer hupd, with the phase stored next to it. */
    public record Unknown(String name, Phase phase, String spareSlot) implements Stored {}

    /** No database: {@code lostHow} says how it was lost, null when there never was one. */
    public record Missing(String lostHow) implements Stored {}

    private static final Map<UpdateState, Action> ON_POWER_ON = new EnumMap<>(UpdateState.class);
    private static final Map<UpdateState, Action> ON_RESTART = new EnumMap<>(UpdateState.class);

    static {
        for (UpdateState s : UpdateState.values()) {
            Action both = switch (s) {
                case IDLE, COMMITTED, ROLLED_BACK_HEALTH, ROLLED_BACK_ALTBOOT, FAILED -> Action.NOTHING;
                case SWITCHING_BOOT -> Action.ASK_BOOT_SETTINGS;
                default -> Action.RESUME;
            };
            ON_POWER_ON.put(s, both);
            ON_RESTART.put(s, both);
        }
        // A power-on after the switch is the trial boot itself: verify it rather than re-run the interrupted step.
        for (UpdateState s : new UpdateState[] {REBOOTING, CHECKING_ALTBOOT, HEALTH_CHECKING}) {
            ON_POWER_ON.put(s, Action.VERIFY_BOOT);
        }
        // hupd restarted in the old OS after the switch: the reboot is still to come.
        ON_RESTART.put(REBOOTING, Action.WAIT_FOR_REBOOT);
    }

    private RecoveryTable() {}

    public static Action actionFor(UpdateState state, Trigger trigger) {
        return (trigger == Trigger.POWER_ON ? ON_POWER_ON : ON_RESTART).get(state);
    }

    /** For a stored state name that may be unknown to this hupd: the safe action for its phase. */
    public static Action actionFor(String stateName, Phase phase, Trigger trigger) {
        Optional<UpdateState> known = known(stateName);
        if (known.isPresent()) {
            return actionFor(known.get(), trigger);
        }
        return switch (phase) {
            case IDLE, DONE -> Action.NOTHING;
            case BEFORE_COMMIT -> Action.REVERT_UNKNOWN;
            case AFTER_COMMIT -> trigger == Trigger.POWER_ON ? Action.VERIFY_BOOT : Action.WAIT_FOR_REBOOT;
        };
    }

    public static Optional<UpdateState> known(String stateName) {
        try {
            return Optional.of(UpdateState.valueOf(stateName));
        } catch (IllegalArgumentException | NullPointerException e) {
            return Optional.empty();
        }
    }

    /**
     * Everything recovery does on this start, as a pure function of what the database holds, what the device
     * says and why hupd starts.
     */
    public static RecoveryPlan plan(Stored stored, GroundTruth truth, Trigger trigger) {
        List<Move> load = new ArrayList<>();
        UpdateState state;
        String name;
        String spare;
        if (stored instanceof Known k) {
            state = k.state();
            name = state.name();
            spare = k.spareSlot();
        } else if (stored instanceof Unknown u) {
            state = safeStateOf(u.phase()); // Overrule.UNKNOWN_STATE
            name = u.name();
            spare = u.spareSlot();
        } else {
            Missing m = (Missing) stored;
            boolean traces = truth.breadcrumbs() || !truth.leftovers().isEmpty();
            if (truth.settings() == null && traces) {
                load.add(new StopOnUnreadableSettings(truth.settingsProblem()));
                return new RecoveryPlan(null, load, List.of());
            }
            GroundTruth.Settings s = truth.settings();
            if (s != null && s.trialArmed()) { // Overrule.LOST_DATABASE_TRIAL_ON
                spare = s.namedSlot() != null ? s.namedSlot() : truth.bootedSlot();
                state = UpdateState.REBOOTING;
                load.add(new Rebuild(state, GroundTruth.otherSlot(spare), spare, !truth.breadcrumbs(),
                        "boot settings name partition " + s.rootPart() + " with upgrade_available=1"));
            } else if (traces) { // Overrule.LOST_DATABASE_HALF_DONE
                String active = s.namedSlot() != null ? s.namedSlot() : truth.bootedSlot();
                spare = GroundTruth.otherSlot(active);
                state = UpdateState.REVERTING;
                load.add(new Rebuild(state, active, spare, false, truth.breadcrumbs() ? "breadcrumbs without a switch"
                        : "leftovers of update " + truth.leftovers().get(0) + " in the data partition"));
            } else { // Overrule.LOST_DATABASE_NOTHING_IN_FLIGHT
                if (m.lostHow() != null) {
                    load.add(new NoteLoss());
                }
                return new RecoveryPlan(null, load, List.of());
            }
            name = state.name();
        }

        List<Move> recover = new ArrayList<>();
        Action action = actionFor(name, state.phase(), trigger);
        if (state.phase() == Phase.BEFORE_COMMIT) {
            GroundTruth.Settings s = truth.settings();
            if (spare == null && s != null && s.trialArmed() && s.namedSlot() != null) {
                // Overrule.SLOTS_FROM_THE_TRIAL: no update starts while another waits for its trial boot, so a
                // trial in the settings can only be this update's.
                spare = s.namedSlot();
                recover.add(new AdoptTrialSlots(spare));
            }
            if (spare != null && state != UpdateState.SWITCHING_BOOT) {
                if (s == null) {
                    recover.add(new StopOnUnreadableSettings(truth.settingsProblem()));
                    return new RecoveryPlan(state, load, recover);
                }
                if (truth.switchedTo(spare)) {
                    // Overrule.BEHIND_THE_BOOT_SETTINGS: an older copy of the database came back after a power
                    // cut; nothing before the switch may run again on a device that has switched.
                    recover.add(new Journal(name, UpdateState.SWITCHING_BOOT,
                            "the database is behind the boot settings, which show the switch done", false));
                    state = UpdateState.SWITCHING_BOOT;
                    action = Action.ASK_BOOT_SETTINGS;
                }
            }
        }
        switch (action) {
            case NOTHING, WAIT_FOR_REBOOT -> { }
            case RESUME -> recover.add(new Fire(UpdateEvent.RESUME, null));
            case VERIFY_BOOT -> recover.add(new Fire(UpdateEvent.BOOTED, null));
            case REVERT_UNKNOWN -> recover.add(new Journal(name, state, "state " + name + " (written by a newer"
                    + " hupd) is not known here; reverting", true));
            case ASK_BOOT_SETTINGS -> askBootSettings(truth, trigger, spare, recover);
        }
        return new RecoveryPlan(stored instanceof Missing ? null : safeOrKnown(stored), load, recover);
    }

    private static void askBootSettings(GroundTruth truth, Trigger trigger, String spare, List<Move> recover) {
        if (truth.settings() == null) {
            recover.add(new StopOnUnreadableSettings(truth.settingsProblem()));
            return;
        }
        if (!truth.switchedTo(spare)) {
            recover.add(new Fire(UpdateEvent.RESUME, null));
            return;
        }
        if (trigger == Trigger.POWER_ON && !truth.bootedSlot().equals(spare) && truth.settings().bootcount() == 0) {
            // A switch decided but not yet in place when the power went is completed by the boot partition's
            // recovery after the firmware read the old settings: the old root is up and no trial boot was
            // counted (a real fallback always counts one). REBOOTING's step asks for the reboot into the trial.
            recover.add(new Fire(UpdateEvent.SUCCEEDED, "the switch to slot " + spare + " was completed after this"
                    + " boot (slot " + truth.bootedSlot() + " booted under the old settings, no trial boot counted):"
                    + " rebooting into the trial"));
            return;
        }
        recover.add(new Fire(UpdateEvent.SUCCEEDED, "the boot settings show the switch was done"));
        if (trigger == Trigger.POWER_ON) {
            recover.add(new Fire(UpdateEvent.BOOTED, null));
        }
    }

    private static UpdateState safeOrKnown(Stored stored) {
        return stored instanceof Known k ? k.state() : safeStateOf(((Unknown) stored).phase());
    }

    /** Where a state this hupd does not know is loaded, by its phase. */
    static UpdateState safeStateOf(Phase phase) {
        return switch (phase) {
            case BEFORE_COMMIT -> UpdateState.REVERTING;
            case AFTER_COMMIT -> UpdateState.REBOOTING;
            case IDLE, DONE -> UpdateState.FAILED;
        };
    }

    /** The table itself, for the generated docs and the tests. */
    public static Map<UpdateState, Action> rows(Trigger trigger) {
        return Map.copyOf(trigger == Trigger.POWER_ON ? ON_POWER_ON : ON_RESTART);
    }
}
