package io.hupd.machine;

/**
 * One row of the transition table.
 *
 * @param guard what must hold for this row to apply, or null
 * @param action what is done on the way, or null
 */
public record Transition(UpdateState source, UpdateEvent event, UpdateState target, TransitionGuard guard,
        TransitionAction action) {

    /** The event the journal (and {@code hupd history}) records when this row is taken. */
    public UpdateEvent journaledEvent() {
        return guard != null && guard.journaledAs() != null ? guard.journaledAs() : event;
    }
}
