package io.hupd.steps;

import io.hupd.machine.UpdateContext;

/**
 * The work of one state. Steps are idempotent: after a crash the state's step runs again from its start. A step
 * may throw; before the commit point the runner turns that into FAILED with the exception's message as reason.
 */
public interface Step {
    StepOutcome run(UpdateContext ctx, StepLog log) throws Exception;
}
