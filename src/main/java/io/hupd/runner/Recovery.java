package io.hupd.runner;

import io.hupd.device.Device;
import io.hupd.domain.Slot;
import io.hupd.machine.ContextChange;
import io.hupd.machine.GroundTruth;
import io.hupd.machine.RecoveryPlan.AdoptTrialSlots;
import io.hupd.machine.RecoveryPlan.Fire;
import io.hupd.machine.RecoveryPlan.Journal;
import io.hupd.machine.RecoveryPlan.Move;
import io.hupd.machine.RecoveryPlan.NoteLoss;
import io.hupd.machine.RecoveryPlan.Rebuild;
import io.hupd.machine.RecoveryPlan.StopOnUnreadableSettings;
import io.hupd.machine.RecoveryPlan;
import io.hupd.machine.RecoveryTable.Trigger;
import io.hupd.machine.RecoveryTable;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateMachine;
import io.hupd.machine.UpdateState;
import io.hupd.persistence.StateStore;
import io.hupd.persistence.StoredState;
import io.hupd.ports.BootSettings;
import io.hupd.ports.StatePartition;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Carries out the recovery table's plan for one start of hupd: reads the database and the device's ground
 * truth, asks {@link RecoveryTable#plan} what to do, and does it through the runner (which journals every move).
 * It decides nothing itself.
 */
final class Recovery {
    private final Device device;
    private final UpdateLog log;
    private final UpdateMachine machine;
    private final UpdateRunner runner;
    private RecoveryPlan plan;
    private GroundTruth truth;
    private IOException settingsError;
    private String lost;

    Recovery(Device device, UpdateLog log, UpdateMachine machine, UpdateRunner runner) {
        this.device = device;
        this.log = log;
        this.machine = machine;
        this.runner = runner;
    }

    /**
     * Loads the persisted state into the machine (a state this hupd does not know is put in a safe known one, a
     * lost database rebuilt from the disk).
     *
     * @param lostBefore why a database was put aside before this load, for the journal; null when none was
     * @return whether there is an update to recover (stored, or rebuilt)
     */
    boolean load(StateStore store, Trigger trigger, String lostBefore) throws IOException {
        lost = lostBefore;
        Optional<StoredState> stored;
        try {
            stored = store.load();
        } catch (IOException e) {
            Path kept = store.quarantine(device.clock().now());
            lost = "unreadable (" + e.getMessage() + "); kept as " + kept.getFileName();
            log.warn("the state database is " + lost + " for inspection");
            stored = Optional.empty();
        }
        truth = groundTruth();
        RecoveryTable.Stored what = stored.<RecoveryTable.Stored>map(s -> RecoveryTable.known(s.stateName())
                        .<RecoveryTable.Stored>map(k -> new RecoveryTable.Known(k, s.context().spareSlot()))
                        .orElse(new RecoveryTable.Unknown(s.stateName(), s.phase(), s.context().spareSlot())))
                .orElse(new RecoveryTable.Missing(lost));
        plan = RecoveryTable.plan(what, truth, trigger);
        if (plan.restoreAs() != null) {
            machine.restore(plan.restoreAs(), stored.orElseThrow().context());
        }
        apply(plan.onLoad());
        return stored.isPresent() || plan.onLoad().stream().anyMatch(m -> m instanceof Rebuild);
    }

    /** Carries the loaded update on as the plan says (for the trigger {@link #load} was given). */
    void recover() throws IOException {
        apply(plan.onRecover());
    }

    private void apply(List<Move> moves) throws IOException {
        for (Move m : moves) {
            UpdateContext ctx = machine.context();
            if (m instanceof Rebuild r) {
                machine.restore(r.state(), new StateRebuilder(device).context(r, truth.leftovers()));
                runner.persistRecovered("DATABASE_LOST", r.state(), "the state database was "
                        + (lost != null ? lost : "missing") + "; rebuilt from the disk (" + r.evidence() + ")");
            } else if (m instanceof NoteLoss) {
                // Nothing to resume or revert, but the loss itself is part of the device's history.
                UpdateContext fresh = UpdateContext.builder()
                        .updateId("database-lost-" + device.clock().now().getEpochSecond())
                        .activeSlot(truth.bootedSlot())
                        .fromVersion(device.slots().osRelease(truth.bootedSlot()).get("VERSION_ID"))
                        .build();
                machine.restore(UpdateState.IDLE, fresh);
                runner.persistRecovered("DATABASE_LOST", UpdateState.IDLE, "the state database was " + lost
                        + "; nothing on the disk shows an update in flight: running " + fresh.fromVersion()
                        + " from slot " + fresh.activeSlot());
            } else if (m instanceof AdoptTrialSlots a) {
                String active = Slot.named(a.spareSlot()).orElse(Slot.B).other().name();
                String fromVersion = device.slots().osRelease(active).get("VERSION_ID");
                machine.apply(c -> c.spareSlot(a.spareSlot()).activeSlot(active).fromVersion(fromVersion));
            } else if (m instanceof Journal j) {
                machine.restore(j.to(), j.asReason() ? ((ContextChange) c -> c.reason(j.why())).applyTo(ctx) : ctx);
                runner.persistRecovered(j.fromName(), j.to(), j.why());
            } else if (m instanceof Fire f) {
                runner.fire(f.event(), f.reason());
            } else if (m instanceof StopOnUnreadableSettings) {
                throw settingsError;
            } else {
                throw new IllegalStateException("recovery has no way to make the move " + m);
            }
        }
    }

    /** What the device says: read once, before the plan; unreadable boot settings are kept as their error. */
    private GroundTruth groundTruth() throws IOException {
        GroundTruth.Settings settings = null;
        String problem = null;
        try {
            BootSettings s = device.bootloader().read();
            settings = new GroundTruth.Settings(s.upgradeAvailable(), s.rootPart(),
                    device.slots().slotOfPartition(s.rootPart()).orElse(null), s.bootcount());
        } catch (IOException e) {
            settingsError = e;
            problem = e.getMessage();
        }
        boolean breadcrumbs = device.state().has(StatePartition.HEALTH_BREADCRUMB)
                || device.state().has(StatePartition.ALTBOOT_BREADCRUMB);
        return new GroundTruth(device.slots().activeSlot(), settings, problem, breadcrumbs,
                new StateRebuilder(device).leftoverUpdates());
    }
}
