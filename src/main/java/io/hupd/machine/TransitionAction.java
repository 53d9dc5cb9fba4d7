package io.hupd.machine;

/** What a row of the transition table does to the update's context on the way; {@link UpdateMachine} runs it. */
public enum TransitionAction {
    /** A fresh update context replaces the last one. */
    BEGIN_UPDATE,
    /** One more attempt is counted. */
    COUNT_ATTEMPT,
    /** The event's reason is kept as the update's reason (the first reason wins). */
    RECORD_REASON,
    /** The reason becomes "attempt limit reached". */
    RECORD_ATTEMPT_LIMIT;

    /** The name the diagrams show: lowerCamelCase of the constant. */
    public String label() {
        return Labels.camel(name());
    }
}
