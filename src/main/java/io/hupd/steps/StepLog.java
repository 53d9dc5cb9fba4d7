package io.hupd.steps;

import io.hupd.machine.ContextChange;
import io.hupd.ports.Progress;
import java.io.IOException;

/**
 * What a step is given besides the context: where it tells people what it does (the terminal and the update's
 * log file), and the runner's record of the progress it must not lose before it ends.
 */
public interface StepLog {
    void info(String line);

    void warn(String line);

    Progress progress();

    /**
     * Progress the step must keep even if it then fails, throws or the power goes (a failed source, the chunks
     * flushed to the slot): the runner applies {@code change} to the update's context and persists it at once,
     * in the current state. The context the step was given does not change; everything else it changes it
     * returns with its outcome.
     */
    default void record(ContextChange change) throws IOException {
        throw new UnsupportedOperationException("only the runner records a step's progress");
    }
}
