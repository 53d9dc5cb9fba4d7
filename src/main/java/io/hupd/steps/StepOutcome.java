package io.hupd.steps;

import io.hupd.machine.ContextChange;
import io.hupd.machine.Finding;
import io.hupd.machine.UpdateEvent;

/**
 * What a step reports. {@code event == null} means "nothing to report now" (the state waits for the world, e.g.
 * for the reboot after the switch). A check after the commit point reports SUCCEEDED with its {@code finding},
 * on which the machine's guards choose the way. {@code change}, when not null, is what the step changes in the
 * context; the runner applies it.
 */
public record StepOutcome(UpdateEvent event, String reason, Finding finding, ContextChange change) {
    public static final StepOutcome WAIT = new StepOutcome(null, null, null, null);

    public StepOutcome(UpdateEvent event, String reason) {
        this(event, reason, null, null);
    }

    /** This outcome, with the change the step makes to the context. */
    public StepOutcome with(ContextChange change) {
        return new StepOutcome(event, reason, finding, change);
    }

    public static StepOutcome succeeded() {
        return new StepOutcome(UpdateEvent.SUCCEEDED, null);
    }

    public static StepOutcome failed(String reason) {
        return new StepOutcome(UpdateEvent.FAILED, reason);
    }

    public static StepOutcome of(UpdateEvent event, String reason) {
        return new StepOutcome(event, reason);
    }

    /** The check ran; what it found decides where the update goes. */
    public static StepOutcome found(Finding finding) {
        return new StepOutcome(UpdateEvent.SUCCEEDED, null, finding, null);
    }
}
