package io.hupd.runner;

import io.hupd.device.Device;
import io.hupd.machine.MachineLimits;
import io.hupd.machine.Phase;
import io.hupd.machine.RecoveryTable.Trigger;
import io.hupd.machine.RecoveryTable;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateEvent;
import io.hupd.machine.UpdateMachine;
import io.hupd.machine.UpdateState;
import io.hupd.persistence.StateStore;
import io.hupd.persistence.StoredState;
import io.hupd.ports.UserInputException;
import io.hupd.steps.OsVersion;
import io.hupd.steps.SwitchBootStep;
import io.hupd.steps.UpdateImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What the commands do with an update: start one, recover one after a crash or a power-on, abort one. Each call
 * takes the device lock first, so nothing is persisted by a process that would have to give way to another.
 */
public final class UpdateService {
    private final Device device;
    private final Path dataDir;
    private final MachineLimits limits;
    private final UpdateLog log;
    private final StepRegistry steps;

    public UpdateService(Device device, Path dataDir, MachineLimits limits, UpdateLog log, StepRegistry steps) {
        this.device = device;
        this.dataDir = dataDir;
        this.limits = limits;
        this.log = log;
        this.steps = steps;
    }

    private String storeScheme = "file:";

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

    private DeviceLock lock() throws IOException {
        return DeviceLock.tryAcquire(lockFile()).orElseThrow(() -> new DeviceBusyException(
                "another hupd process holds this device's lock (an update is running): try again when it ends"));
    }

    private UpdateRunner runner(UpdateMachine machine, StateStore store) {
        return new UpdateRunner(device, store, machine, steps, log, abortRequestFile(),
                dataDir.resolve("balenahup"));
    }

    private interface WithStore<T> {
        T run(StateStore store) throws IOException, InterruptedException;
    }

    /**
     * Runs {@code body} (the caller holds the device lock) on one database connection for all its transitions. It
     * is closed before the caller releases the lock, on every path: normally when the body returns, and abandoned
     * without a further write when it throws, as a dead process leaves it (a simulated crash is an exception).
     */
    private <T> T withHeldStore(WithStore<T> body) throws IOException, InterruptedException {
        StateStore store = store().hold();
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

    /** Starts an update (resuming an interrupted one to the same target); returns the state it stopped in. */
    public UpdateState update(UpdateRequest req) throws IOException, InterruptedException {
        OsVersion.parse(req.targetVersion());
        if (req.images().isEmpty() && req.delta() == null) {
            throw new UserInputException("no image source: give at least one --image REF");
        }
        for (String ref : req.images()) {
            device.images().open(ref);
        }
        if (req.delta() != null) {
            device.images().open(req.delta());
        }
        try (DeviceLock l = lock()) {
            Files.deleteIfExists(abortRequestFile());
            return withHeldStore(store -> update(req, store));
        }
    }

    private UpdateState update(UpdateRequest req, StateStore store) throws IOException, InterruptedException {
        UpdateMachine machine = new UpdateMachine(limits);
        UpdateRunner runner = runner(machine, store);
        Optional<StoredState> stored = restore(machine, runner, store);
        if (machine.state().inFlight()) {
            UpdateContext ctx = machine.context();
            if (sameRequest(ctx, req)) {
                log.info("resuming update " + ctx.updateId + " to " + ctx.targetVersion);
                recover(machine, runner, stored.get(), Trigger.PROCESS_RESTART);
                return handOver(store, machine, runner, runner.run());
            }
            if (machine.state().phase() == Phase.AFTER_COMMIT) {
                throw new UserInputException("the update to " + ctx.targetVersion + " has switched the boot"
                        + " settings and waits for its trial boot: reboot the device (hupd reboot) first");
            }
            log.info("update " + ctx.updateId + " to " + ctx.targetVersion + " was interrupted; reverting it"
                    + " before the update to " + req.targetVersion());
            if (machine.accepts(UpdateEvent.ABORT)) {
                runner.fire(UpdateEvent.ABORT, "superseded by an update to " + req.targetVersion());
            }
            runner.run();
        }
        runner.start(fresh(req));
        return handOver(store, machine, runner, runner.run());
    }

    /**
     * Ends the held session with a fresh read of the database. The held connection opened the file once, so
     * damage in what H2 reads only when it opens a file stays hidden from this process; the next one would find
     * it and have to rebuild from the disk, which cannot tell a committed update from no update. This process
     * still knows where the update is: a database that fails the read is kept aside and a fresh one gets the
     * state this run ended in.
     */
    private UpdateState handOver(StateStore store, UpdateMachine machine, UpdateRunner runner, UpdateState end)
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
            Path kept = store.quarantine(device.clock().now());
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
                && java.util.Objects.equals(back.get().context().updateId, wrote.updateId)
                && back.get().context().transitions == wrote.transitions) {
            return null;
        }
        String read = back.map(b -> b.stateName() + " after " + b.context().transitions + " transitions")
                .orElse("nothing");
        return "it reads back " + read + ", this run wrote " + state + " after " + wrote.transitions;
    }

    /** Set when a database failed in use and was put aside, so that the rebuild that follows journals why. */
    private String lossNotYetJournaled;

    /** The device powered on: the boot-time half of hupd (altboot, health, commit, resume or revert). */
    public UpdateState onPowerOn() throws IOException, InterruptedException {
        try (DeviceLock l = lock()) {
            return withHeldStore(store -> {
                try {
                    return bootTimeRun(store);
                } catch (StateStore.DatabaseDamaged e) {
                    // Damage the first read did not see: the disk decides, as when the database is lost.
                    Path kept = store.quarantine(device.clock().now());
                    log.warn("the state database failed while in use (" + e.getMessage() + "); kept as "
                            + kept.getFileName() + ", rebuilding from the disk");
                    lossNotYetJournaled = "unreadable in use (" + e.getMessage() + "); kept as "
                            + kept.getFileName();
                    return bootTimeRun(store);
                }
            });
        }
    }

    private UpdateState bootTimeRun(StateStore store) throws IOException, InterruptedException {
        UpdateMachine machine = new UpdateMachine(limits);
        UpdateRunner runner = runner(machine, store);
        Optional<StoredState> stored = restore(machine, runner, store);
        if (stored.isPresent()) {
            recover(machine, runner, stored.get(), Trigger.POWER_ON);
        }
        return handOver(store, machine, runner, runner.run());
    }

    /**
     * Reverts an update that has not reached its commit point. When another process runs it, asks that process
     * (it reverts at its next step boundary) and waits for it.
     */
    public UpdateState abort() throws IOException, InterruptedException {
        Optional<DeviceLock> lock = DeviceLock.tryAcquire(lockFile());
        boolean askedTheRunningUpdate = lock.isEmpty();
        if (askedTheRunningUpdate) {
            Files.createDirectories(abortRequestFile().getParent());
            Files.writeString(abortRequestFile(), "abort\n");
            log.info("abort requested; waiting for the running update to revert");
            for (int i = 0; i < 1200; i++) {
                Optional<DeviceLock> l = DeviceLock.tryAcquire(lockFile());
                if (l.isPresent()) {
                    l.get().close();
                    break;
                }
                device.clock().sleep(java.time.Duration.ofMillis(100));
            }
            lock = DeviceLock.tryAcquire(lockFile());
            if (lock.isEmpty()) {
                // An abort that reports it did nothing must leave nothing behind: a request left here would end
                // the update later, when nobody asks any more.
                boolean withdrawn = Files.deleteIfExists(abortRequestFile());
                throw new DeviceBusyException("the running update did not stop within 120 s; " + (withdrawn
                        ? "the abort request is withdrawn and nothing was changed"
                        : "it has taken the abort request and reverts when its current step ends"));
            }
        }
        try (DeviceLock l = lock.get()) {
            boolean untaken = Files.deleteIfExists(abortRequestFile());
            // the running update took the request and reverted: that is this abort's outcome
            boolean reverted = askedTheRunningUpdate && !untaken;
            return withHeldStore(store -> abortHeld(store, reverted));
        }
    }

    private UpdateState abortHeld(StateStore store, boolean revertedByTheRunningUpdate)
            throws IOException, InterruptedException {
        UpdateMachine machine = new UpdateMachine(limits);
        UpdateRunner runner = runner(machine, store);
        restore(machine, runner, store);
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
            throw new UserInputException("the update to " + machine.context().targetVersion + " has passed"
                    + " its commit point (state " + s + "): the boot verification decides it now");
        }
        runner.fire(UpdateEvent.ABORT, "aborted by the operator (hupd abort)");
        return runner.run();
    }

    /** Loads the persisted state into the machine (a state this hupd does not know is put in a safe known one). */
    private Optional<StoredState> restore(UpdateMachine machine, UpdateRunner runner, StateStore store)
            throws IOException {
        Optional<StoredState> stored;
        String lost = lossNotYetJournaled;
        lossNotYetJournaled = null;
        try {
            stored = store.load();
        } catch (IOException e) {
            Path kept = store.quarantine(device.clock().now());
            lost = "unreadable (" + e.getMessage() + "); kept as " + kept.getFileName();
            log.warn("the state database is " + lost + " for inspection");
            stored = Optional.empty();
        }
        if (stored.isEmpty()) {
            Optional<StateRebuilder.Rebuilt> rebuilt = new StateRebuilder(device).rebuild();
            if (rebuilt.isEmpty()) {
                if (lost != null) {
                    // Nothing to resume or revert, but the loss itself is part of the device's history.
                    UpdateContext ctx = new UpdateContext();
                    ctx.updateId = "database-lost-" + device.clock().now().getEpochSecond();
                    ctx.activeSlot = device.slots().activeSlot();
                    ctx.fromVersion = device.slots().osRelease(ctx.activeSlot).get("VERSION_ID");
                    machine.restore(UpdateState.IDLE, ctx);
                    runner.persistRecovered("DATABASE_LOST", UpdateState.IDLE, "the state database was " + lost
                            + "; nothing on the disk shows an update in flight: running " + ctx.fromVersion
                            + " from slot " + ctx.activeSlot);
                }
                return stored;
            }
            StateRebuilder.Rebuilt r = rebuilt.get();
            machine.restore(r.state(), r.context());
            runner.persistRecovered("DATABASE_LOST", r.state(), "the state database was "
                    + (lost != null ? lost : "missing") + "; rebuilt from the disk (" + r.evidence() + ")");
            return Optional.of(new StoredState(r.state().name(), r.state().phase(), r.context()));
        }
        StoredState s = stored.get();
        Optional<UpdateState> known = RecoveryTable.known(s.stateName());
        if (known.isPresent()) {
            machine.restore(known.get(), s.context());
        } else {
            machine.restore(switch (s.phase()) {
                case BEFORE_COMMIT -> UpdateState.REVERTING;
                case AFTER_COMMIT -> UpdateState.REBOOTING;
                default -> UpdateState.FAILED;
            }, s.context());
        }
        return stored;
    }

    /** Applies the recovery table's action for the stored state. */
    private void recover(UpdateMachine machine, UpdateRunner runner, StoredState stored, Trigger trigger)
            throws IOException {
        RecoveryTable.Action action = RecoveryTable.actionFor(stored.stateName(), stored.phase(), trigger);
        UpdateContext ctx = machine.context();
        if (machine.state().phase() == Phase.BEFORE_COMMIT && machine.state() != UpdateState.SWITCHING_BOOT
                && ctx.spareSlot == null) {
            slotsFromATrial(ctx);
        }
        if (machine.state().phase() == Phase.BEFORE_COMMIT && machine.state() != UpdateState.SWITCHING_BOOT
                && ctx.spareSlot != null && SwitchBootStep.switched(device, ctx)) {
            // The database is behind the disk (an older copy came back after a power cut): the boot settings
            // are the truth, and nothing before the switch may run again on a device that has switched.
            machine.restore(UpdateState.SWITCHING_BOOT, ctx);
            runner.persistRecovered(stored.stateName(), UpdateState.SWITCHING_BOOT,
                    "the database is behind the boot settings, which show the switch done");
            action = RecoveryTable.Action.ASK_BOOT_SETTINGS;
        }
        switch (action) {
            case NOTHING, WAIT_FOR_REBOOT -> { }
            case RESUME -> runner.fire(UpdateEvent.RESUME, null);
            case VERIFY_BOOT -> runner.fire(UpdateEvent.BOOTED, null);
            case REVERT_UNKNOWN -> {
                ctx.reason = "state " + stored.stateName() + " (written by a newer hupd) is not known here;"
                        + " reverting";
                runner.persistRecovered(stored.stateName(), machine.state(), ctx.reason);
            }
            case ASK_BOOT_SETTINGS -> {
                if (SwitchBootStep.switched(device, ctx)) {
                    if (trigger == Trigger.POWER_ON && SwitchBootStep.trialStillToCome(device, ctx)) {
                        // REBOOTING's step asks for the reboot that starts the trial
                        runner.fire(UpdateEvent.SUCCEEDED, "the switch to slot " + ctx.spareSlot + " was"
                                + " completed after this boot (slot " + device.slots().activeSlot() + " booted"
                                + " under the old settings, no trial boot counted): rebooting into the trial");
                        return;
                    }
                    runner.fire(UpdateEvent.SUCCEEDED, "the boot settings show the switch was done");
                    if (trigger == Trigger.POWER_ON) {
                        runner.fire(UpdateEvent.BOOTED, null);
                    }
                } else {
                    runner.fire(UpdateEvent.RESUME, null);
                }
            }
        }
    }

    /**
     * A database so far behind that it has not recorded the slots yet (LOCKED) cannot say by itself whether the
     * switch happened. A trial in the boot settings can only be this update's (no update starts while another
     * waits for its trial boot), so it names the slots: the one the trial boots is the spare.
     */
    private void slotsFromATrial(UpdateContext ctx) throws IOException {
        io.hupd.ports.BootSettings settings;
        try {
            settings = device.bootloader().read();
        } catch (io.hupd.ports.BootSettingsException e) {
            return; // unreadable settings are the coherence checks' to report
        }
        if (!settings.upgradeAvailable()) {
            return;
        }
        Optional<String> trial = device.slots().slotOfPartition(settings.rootPart());
        if (trial.isPresent()) {
            ctx.spareSlot = trial.get();
            ctx.activeSlot = "A".equals(ctx.spareSlot) ? "B" : "A";
            ctx.fromVersion = device.slots().osRelease(ctx.activeSlot).get("VERSION_ID");
        }
    }

    private static boolean sameRequest(UpdateContext ctx, UpdateRequest req) {
        return req.targetVersion().equals(ctx.targetVersion) && req.images().equals(ctx.images)
                && java.util.Objects.equals(req.delta(), ctx.delta);
    }

    private UpdateContext fresh(UpdateRequest req) {
        UpdateContext c = new UpdateContext();
        var now = device.clock().now();
        c.updateId = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(now)
                + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
        c.startedAt = now.toString();
        c.targetVersion = req.targetVersion();
        c.images = new ArrayList<>(req.images());
        c.delta = req.delta();
        c.requireUpgrade = req.requireUpgrade();
        c.reboot = req.reboot();
        // with the update's first persisted state, so that a resume from any state fetches the same way
        UpdateImages.record(device, c);
        return c;
    }
}
