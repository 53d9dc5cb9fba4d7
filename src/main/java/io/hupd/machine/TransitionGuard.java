package io.hupd.machine;

/**
 * The conditions a row of the transition table may put on its event. Each comes with its complement: where an
 * event is guarded, the table has one row for a guard and one for its complement, so exactly one row applies.
 * {@link UpdateMachine} gives each its logic in one exhaustive switch.
 */
public enum TransitionGuard {
    /** The update may run once more before its commit point (attempt limit not reached). */
    ATTEMPTS_LEFT,
    /** The attempt limit is reached. */
    ATTEMPT_LIMIT_REACHED;

    public TransitionGuard complement() {
        return switch (this) {
            case ATTEMPTS_LEFT -> ATTEMPT_LIMIT_REACHED;
            case ATTEMPT_LIMIT_REACHED -> ATTEMPTS_LEFT;
        };
    }

    /** The name the diagrams show: lowerCamelCase of the constant. */
    public String label() {
        return Labels.camel(name());
    }
}
