package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.fs.Trees;
import io.hupd.machine.UpdateContext;
import io.hupd.ports.BootSettings;
import io.hupd.ports.StatePartition;

/**
 * ROLLING_BACK_HEALTH and ROLLING_BACK_ALTBOOT: put the old OS back — its boot files, the boot settings naming
 * its root with no trial armed — leave the reason in the state partition, and reboot into it.
 */
public final class RollbackStep implements Step {
    public enum Kind { HEALTH, ALTBOOT }

    private final Device device;
    private final Kind kind;

    public RollbackStep(Device device, Kind kind) {
        this.device = device;
        this.kind = kind;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        var backup = device.data().bootBackupDir(ctx.updateId());
        if (device.boot().hasCompleteBackup(backup)) {
            device.boot().restore(backup, device.bootFilePolicy());
        }
        device.bootloader().write(new BootSettings(device.slots().partitionOf(ctx.activeSlot()), false, 0));
        device.slots().markNotBootable(ctx.spareSlot());
        StringBuilder reason = new StringBuilder(ctx.reason() == null ? "rolled back" : ctx.reason());
        if (ctx.failedCheckOutput() != null && !ctx.failedCheckOutput().isBlank()) {
            reason.append("\n--- output of ").append(ctx.failedCheck()).append(" ---\n")
                    .append(ctx.failedCheckOutput());
        }
        device.state().writeMarker(kind == Kind.HEALTH ? StatePartition.HEALTH_TRIGGERED
                : StatePartition.ALTBOOT_TRIGGERED, reason + "\n");
        device.state().disarm();
        Trees.deleteRecursively(backup);
        CachePruning.afterRollback(device, ctx, log);
        Trees.deleteRecursively(device.data().workDir(ctx.updateId()));
        log.info("rolled back to " + ctx.fromVersion() + " (slot " + ctx.activeSlot() + "): " + ctx.reason());
        device.power().reboot("rollback-" + kind.name().toLowerCase() + " to " + ctx.fromVersion());
        return StepOutcome.succeeded();
    }
}
