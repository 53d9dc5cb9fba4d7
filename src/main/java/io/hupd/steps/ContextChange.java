package io.hupd.steps;

import io.hupd.machine.UpdateContext;

/**
 * What a step changes in the update's context, returned with its outcome rather than written by the step: the
 * runner applies it and persists it with the transition, so the context is written in one place.
 */
@FunctionalInterface
public interface ContextChange {
    void applyTo(UpdateContext ctx);
}
