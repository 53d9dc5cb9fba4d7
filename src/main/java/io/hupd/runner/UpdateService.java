package io.hupd.runner;

import io.hupd.device.Device;
import io.hupd.machine.MachineLimits;
import io.hupd.machine.Phase;
import io.hupd.machine.RecoveryTable.Trigger;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateEvent;
import io.hupd.machine.UpdateMachine;
import io.hupd.machine.UpdateState;
import io.hupd.persistence.StateStore;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What the commands do with an update: start one, recover one after a crash or a power-on, abort one. Each call
 * takes the device lock first, so nothing is persisted by a process that would have to give way to another.
 * The held session, the recovery, the abort requests and the request checks are classes of their own; this
 * puts them in order.
 */
public final class UpdateService {
    private final Device device;
    private final Path dataDir;
    private final MachineLimits limits;
    private final UpdateLog log;
    private final StepRegistry steps;
    private final HeldSession session;
    private final AbortRequests aborts;
    private final UpdateRequests requests;
    private String storeScheme = "file:";

    public UpdateService(Device device, Path dataDir, MachineLimits limits, UpdateLog log, StepRegistry steps) {
        this.device = device;
        this.dataDir = dataDir;
        this.limits = limits;
        this.log = log;
        this.steps = steps;
        this.session = new HeldSession(this::store, lockFile(), device.clock(), log);
        this.aborts = new AbortRequests(abortRequestFile(), lockFile(), device.clock(), log);
        this.requests = new UpdateRequests(device);
    }

    /** The H2 file-system scheme of the state database (tests put a power-cut layer under it). */
    public UpdateService withStoreScheme(String scheme) {
        this.storeScheme = scheme;
        return this;
    }

    public StateStore store() {
        return new StateStore(dataDir.resolve("hupd"), storeScheme);
    }

    public Path lockFile() {
        return dataDir.resolve("hupd/lock");
    }

    public Path abortRequestFile() {
        return dataDir.resolve("hupd/abort-request");
    }

    private UpdateRunner runner(UpdateMachine machine, StateStore store) {
        return new UpdateRunner(device, store, machine, steps, log, abortRequestFile(),
                dataDir.resolve("balenahup"));
    }

    /** Starts an update (resuming an interrupted one to the same target); returns the state it stopped in. */
    public UpdateState update(UpdateRequest req) throws IOException, InterruptedException {
        requests.validate(req);
        try (DeviceLock l = session.lock()) {
            aborts.clear();
            return session.withHeldStore(store -> update(req, store));
        }
    }

    private UpdateState update(UpdateRequest req, StateStore store) throws IOException, InterruptedException {
        UpdateMachine machine = new UpdateMachine(limits);
        UpdateRunner runner = runner(machine, store);
        Recovery recovery = new Recovery(device, log, machine, runner);
        recovery.load(store, Trigger.PROCESS_RESTART, session.takeLoss());
        if (machine.state().inFlight()) {
            UpdateContext ctx = machine.context();
            if (UpdateRequests.sameRequest(ctx, req)) {
                log.info("resuming update " + ctx.updateId() + " to " + ctx.targetVersion());
                recovery.recover();
                return session.handOver(store, machine, runner, runner.run());
            }
            if (machine.state().phase() == Phase.AFTER_COMMIT) {
                throw new UserInputException("the update to " + ctx.targetVersion() + " has switched the boot"
                        + " settings and waits for its trial boot: reboot the device (hupd reboot) first");
            }
            log.info("update " + ctx.updateId() + " to " + ctx.targetVersion() + " was interrupted; reverting it"
                    + " before the update to " + req.targetVersion());
            if (machine.accepts(UpdateEvent.ABORT)) {
                runner.fire(UpdateEvent.ABORT, "superseded by an update to " + req.targetVersion());
            }
            runner.run();
        }
        runner.start(requests.fresh(req));
        return session.handOver(store, machine, runner, runner.run());
    }

    /** The device powered on: the boot-time half of hupd (altboot, health, commit, resume or revert). */
    public UpdateState onPowerOn() throws IOException, InterruptedException {
        try (DeviceLock l = session.lock()) {
            return session.withHeldStore(store -> {
                try {
                    return bootTimeRun(store);
                } catch (StateStore.DatabaseDamaged e) {
                    // Damage the first read did not see: the disk decides, as when the database is lost.
                    session.putAsideDamaged(store, e);
                    return bootTimeRun(store);
                }
            });
        }
    }

    private UpdateState bootTimeRun(StateStore store) throws IOException, InterruptedException {
        UpdateMachine machine = new UpdateMachine(limits);
        UpdateRunner runner = runner(machine, store);
        Recovery recovery = new Recovery(device, log, machine, runner);
        if (recovery.load(store, Trigger.POWER_ON, session.takeLoss())) {
            recovery.recover();
        }
        return session.handOver(store, machine, runner, runner.run());
    }

    /**
     * Reverts an update that has not reached its commit point. When another process runs it, asks that process
     * (it reverts at its next step boundary) and waits for it.
     */
    public UpdateState abort() throws IOException, InterruptedException {
        Optional<DeviceLock> free = DeviceLock.tryAcquire(lockFile());
        boolean askedTheRunningUpdate = free.isEmpty();
        DeviceLock lock = askedTheRunningUpdate ? aborts.askAndWait() : free.get();
        try (DeviceLock l = lock) {
            boolean untaken = aborts.withdraw();
            // the running update took the request and reverted: that is this abort's outcome
            boolean reverted = askedTheRunningUpdate && !untaken;
            return session.withHeldStore(store -> abortHeld(store, reverted));
        }
    }

    private UpdateState abortHeld(StateStore store, boolean revertedByTheRunningUpdate)
            throws IOException, InterruptedException {
        UpdateMachine machine = new UpdateMachine(limits);
        UpdateRunner runner = runner(machine, store);
        new Recovery(device, log, machine, runner).load(store, Trigger.PROCESS_RESTART, session.takeLoss());
        UpdateState s = machine.state();
        if (!s.inFlight() && revertedByTheRunningUpdate && s == UpdateState.FAILED) {
            return s;
        }
        if (!s.inFlight()) {
            throw new UserInputException("no update is in flight (state " + s + "): nothing to abort");
        }
        if (!machine.accepts(UpdateEvent.ABORT)) {
            if (s == UpdateState.REVERTING) {
                return runner.run();
            }
            throw new UserInputException("the update to " + machine.context().targetVersion() + " has passed"
                    + " its commit point (state " + s + "): the boot verification decides it now");
        }
        runner.fire(UpdateEvent.ABORT, "aborted by the operator (hupd abort)");
        return runner.run();
    }
}
