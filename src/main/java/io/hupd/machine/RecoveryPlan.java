package io.hupd.machine;

import java.util.List;
import java.util.stream.Collectors;

/**
 * What recovery does with one start of hupd, decided by {@link RecoveryTable#plan} before anything is done:
 * the state the machine is put in, the moves that load it ({@code onLoad}: always made), and the moves that
 * carry the interrupted update on ({@code onRecover}: made when this start recovers rather than only reads).
 *
 * @param restoreAs the state the stored one is loaded as, null when there is none (a fresh machine)
 */
public record RecoveryPlan(UpdateState restoreAs, List<Move> onLoad, List<Move> onRecover) {
    public RecoveryPlan {
        onLoad = List.copyOf(onLoad);
        onRecover = List.copyOf(onRecover);
    }

    /** One thing recovery does, in order. */
    public sealed interface Move {}

    /**
     * The database is gone: the update is put in {@code state}, with a context rebuilt from the disk for these
     * slots, and the loss is journaled ({@code armTrial}: a trial with no guard armed gets the breadcrumbs back).
     */
    public record Rebuild(UpdateState state, String activeSlot, String spareSlot, boolean armTrial,
            String evidence) implements Move {}

    /** The database is gone and nothing on the disk shows an update: the loss alone is journaled, in IDLE. */
    public record NoteLoss() implements Move {}

    /** The database has not recorded the slots yet; the trial in the boot settings names the spare. */
    public record AdoptTrialSlots(String spareSlot) implements Move {}

    /**
     * A move the machine does not make on its own (no row of the transition table applies), journaled as
     * {@link RecoveryTable#RECOVERED} from the stored state's name; {@code asReason}: {@code why} becomes the
     * update's reason.
     */
    public record Journal(String fromName, UpdateState to, String why, boolean asReason) implements Move {}

    /** An event for the machine. */
    public record Fire(UpdateEvent event, String reason) implements Move {}

    /** The decision needs the boot settings and they cannot be read: recovery stops with their error. */
    public record StopOnUnreadableSettings(String problem) implements Move {}

    /** One line per move, for tests and logs. */
    public String describe() {
        return "restore " + restoreAs + "; load " + describe(onLoad) + "; recover " + describe(onRecover);
    }

    private static String describe(List<Move> moves) {
        return moves.isEmpty() ? "-" : moves.stream().map(RecoveryPlan::describe).collect(Collectors.joining(", "));
    }

    private static String describe(Move m) {
        if (m instanceof Rebuild r) {
            return "rebuild " + r.state() + " " + r.activeSlot() + "->" + r.spareSlot() + (r.armTrial() ? " arm" : "");
        }
        if (m instanceof NoteLoss) {
            return "note loss";
        }
        if (m instanceof AdoptTrialSlots a) {
            return "adopt spare " + a.spareSlot();
        }
        if (m instanceof Journal j) {
            return "journal " + j.fromName() + "->" + j.to() + (j.asReason() ? " as reason" : "");
        }
        if (m instanceof Fire f) {
            return "fire " + f.event();
        }
        if (m instanceof StopOnUnreadableSettings) {
            return "stop: settings unreadable";
        }
        throw new IllegalArgumentException("not a move: " + m);
    }
}
