package io.hupd.steps;

import io.hupd.machine.UpdateEvent;

/**
 * What a step reports. {@code event == null} means "nothing to report now" (the state waits for the world, e.g.
 * for the reboot after the switch).
 */
public record StepOutcome(UpdateEvent event, String reason) {
    public static final StepOutcome WAIT = new StepOutcome(null, null);

    public static StepOutcome succeeded() {
        return new StepOutcome(UpdateEvent.SUCCEEDED, null);
    }

    public static StepOutcome failed(String reason) {
        return new StepOutcome(UpdateEvent.FAILED, reason);
    }

    public static StepOutcome of(UpdateEvent event, String reason) {
        return new StepOutcome(event, reason);
    }
}
