package io.hupd.runner;

import io.hupd.ports.Clock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * {@code hupd abort} asking an update that another process runs: a request file that the running update takes
 * at its next step boundary (or within a download), then the wait for that process to let go of the lock.
 */
final class AbortRequests {
    private static final Duration POLL = Duration.ofMillis(100);
    private static final int POLLS = 1200;

    private final Path file;
    private final Path lockFile;
    private final Clock clock;
    private final UpdateLog log;

    AbortRequests(Path file, Path lockFile, Clock clock, UpdateLog log) {
        this.file = file;
        this.lockFile = lockFile;
        this.clock = clock;
        this.log = log;
    }

    /** A request left by an abort that found no update running must not end the next update. */
    void clear() throws IOException {
        Files.deleteIfExists(file);
    }

    /**
     * Leaves the request and waits up to 120 s for the running update to revert and release the lock.
     *
     * @return the lock, now this process's
     * @throws DeviceBusyException when the update did not stop in time (the request is withdrawn if untaken)
     */
    DeviceLock askAndWait() throws IOException, InterruptedException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "abort\n");
        log.info("abort requested; waiting for the running update to revert");
        for (int i = 0; i < POLLS; i++) {
            Optional<DeviceLock> l = DeviceLock.tryAcquire(lockFile);
            if (l.isPresent()) {
                l.get().close();
                break;
            }
            clock.sleep(POLL);
        }
        Optional<DeviceLock> lock = DeviceLock.tryAcquire(lockFile);
        if (lock.isEmpty()) {
            // An abort that reports it did nothing must leave nothing behind: a request left here would end the
            // update later, when nobody asks any more.
            boolean withdrawn = Files.deleteIfExists(file);
            throw new DeviceBusyException("the running update did not stop within 120 s; " + (withdrawn
                    ? "the abort request is withdrawn and nothing was changed"
                    : "it has taken the abort request and reverts when its current step ends"));
        }
        return lock.get();
    }

    /** Removes the request; true when it was still there (nobody took it). */
    boolean withdraw() throws IOException {
        return Files.deleteIfExists(file);
    }
}
