package io.hupd.steps;

import io.hupd.ports.Progress;

/** Where steps tell people what they do: the terminal and the update's log file. */
public interface StepLog {
    void info(String line);

    void warn(String line);

    Progress progress();
}
