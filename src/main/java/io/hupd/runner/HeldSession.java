package io.hupd.runner;

import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateMachine;
import io.hupd.machine.UpdateState;
import io.hupd.persistence.StateStore;
import io.hupd.persistence.StoredState;
import io.hupd.ports.Clock;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One run under the device lock: the database connection held for all its transitions, the read-back that
 * ends it, and what is done with a database that fails while held (kept aside, never deleted).
 */
final class HeldSession {
    interface Body<T> {
        T run(StateStore store) throws IOException, InterruptedException;
    }

    private final Supplier<StateStore> stores;
    private final Path lockFile;
    private final Clock clock;
    private final UpdateLog log;
    /** Set when a database failed in use and was put aside, so that the rebuild that follows journals why. */
    private String lossNotYetJournaled;

    HeldSession(Supplier<StateStore> stores, Path lockFile, Clock clock, UpdateLog log) {
        this.stores = stores;
        this.lockFile = lockFile;
        this.clock = clock;
        this.log = log;
    }

    DeviceLock lock() throws IOException {
        return DeviceLock.tryAcquire(lockFile).orElseThrow(() -> new DeviceBusyException(
                "another hupd process holds this device's lock (an update is running): try again when it ends"));
    }

    /**
     * Runs {@code body} (the caller holds the device lock) on one database connection for all its transitions. It
     * is closed before the caller releases the lock, on every path: normally when the body returns, and abandoned
     * without a further write when it throws, as a dead process leaves it (a simulated crash is an exception).
     */
    <T> T withHeldStore(Body<T> body) throws IOException, InterruptedException {
        StateStore store = stores.get().hold();
        boolean returned = false;
        try {
            T result = body.run(store);
            returned = true;
            return result;
        } finally {
            if (returned) {
                store.release();
            } else {
                store.abandon();
            }
        }
    }

    /** Damage the first read did not see: the database is kept aside, and the next load rebuilds from the disk. */
    void putAsideDamaged(StateStore store, StateStore.DatabaseDamaged e) throws IOException {
        Path kept = store.quarantine(clock.now());
        log.warn("the state database failed while in use (" + e.getMessage() + "); kept as " + kept.getFileName()
                + ", rebuilding from the disk");
        lossNotYetJournaled = "unreadable in use (" + e.getMessage() + "); kept as " + kept.getFileName();
    }

    /** Why a database was put aside before this load (once), for the journal; null when none was. */
    String takeLoss() {
        String lost = lossNotYetJournaled;
        lossNotYetJournaled = null;
        return lost;
    }

    /**
     * Ends the held session with a fresh read of the database. The held connection opened the file once, so
     * damage in what H2 reads only when it opens a file stays hidden from this process; the next one would find
     * it and have to rebuild from the disk, which cannot tell a committed update from no update. This process
     * still knows where the update is: a database that fails the read is kept aside and a fresh one gets the
     * state this run ended in.
     */
    UpdateState handOver(StateStore store, UpdateMachine machine, UpdateRunner runner, UpdateState end)
            throws IOException {
        store.release();
        UpdateContext wrote = machine.context();
        String problem;
        try {
            Optional<StoredState> back = store.load();
            problem = wrote == null ? null : lessThanWritten(back, machine.state(), wrote);
        } catch (StateStore.DatabaseDamaged e) {
            problem = e.getMessage();
        }
        if (problem == null) {
            // the read-back rewrote the file: readers may take the snapshot for it again (persistence/README.md)
            store.restampReleased();
        } else {
            Path kept = store.quarantine(clock.now());
            log.warn("the state database failed its read-back (" + problem + "); kept as " + kept.getFileName()
                    + ", a fresh one gets the state " + machine.state());
            if (wrote != null) {
                runner.persistRecovered("DATABASE_LOST", machine.state(), "the state database failed its read-back"
                        + " at the end of this run (" + problem + "); kept as " + kept.getFileName() + "; the state"
                        + " this run ended in is carried over");
            }
        }
        return end;
    }

    /**
     * H2 can fall back to an older, intact version of a damaged file: then the read succeeds but says less than
     * this run wrote.
     *
     * @return what is missing, or null when the read-back is what the run wrote
     */
    private static String lessThanWritten(Optional<StoredState> back, UpdateState state, UpdateContext wrote) {
        if (back.isPresent() && back.get().stateName().equals(state.name())
                && Objects.equals(back.get().context().updateId(), wrote.updateId())
                && back.get().context().transitions() == wrote.transitions()) {
            return null;
        }
        String read = back.map(b -> b.stateName() + " after " + b.context().transitions() + " transitions")
                .orElse("nothing");
        return "it reads back " + read + ", this run wrote " + state + " after " + wrote.transitions();
    }
}
