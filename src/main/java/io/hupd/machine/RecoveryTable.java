package io.hupd.machine;

import static io.hupd.machine.UpdateState.*;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * What hupd does with a persisted state when it starts again (SPEC §6): every state maps to exactly one action
 * per trigger. A power-on means the device rebooted (the bootloader has chosen a root); a process restart means
 * hupd died but the OS kept running.
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

    /** The table itself, for the generated docs and the tests. */
    public static Map<UpdateState, Action> rows(Trigger trigger) {
        return Map.copyOf(trigger == Trigger.POWER_ON ? ON_POWER_ON : ON_RESTART);
    }
}
