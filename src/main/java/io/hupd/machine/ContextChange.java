package io.hupd.machine;

/**
 * What changes in an update's context: written on a builder holding the context's values, it makes the next
 * context from the current one. Steps return one with their outcome (or hand one to the runner's record of
 * progress) rather than change the context; the machine's actions are changes too. Only the machine and the
 * runner apply a change ({@link #applyTo}), and the runner persists the result with the transition, so the
 * context is written in one place (the architecture test holds every other class to that).
 */
@FunctionalInterface
public interface ContextChange {
    /** Sets what this change changes on {@code next}, which holds the current context's values. */
    void write(UpdateContext.Builder next);

    /** The context this change makes from {@code current}. */
    default UpdateContext applyTo(UpdateContext current) {
        UpdateContext.Builder next = current.toBuilder();
        write(next);
        return next.build();
    }

    /** This change, then {@code after}. */
    default ContextChange andThen(ContextChange after) {
        return next -> {
            write(next);
            after.write(next);
        };
    }
}
