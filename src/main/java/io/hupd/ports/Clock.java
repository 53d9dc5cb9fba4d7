package io.hupd.ports;

import java.time.Duration;
import java.time.Instant;

/** Time for steps and the runner; tests replace it so that runs replay exactly and waits take no wall time. */
public interface Clock {
    Instant now();

    void sleep(Duration d) throws InterruptedException;

    Clock SYSTEM = new Clock() {
        @Override
        public Instant now() {
            return Instant.now();
        }

        @Override
        public void sleep(Duration d) throws InterruptedException {
            Thread.sleep(d.toMillis());
        }
    };
}
