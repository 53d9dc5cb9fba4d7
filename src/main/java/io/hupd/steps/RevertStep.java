package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.fs.Trees;
import io.hupd.machine.UpdateContext;
import io.hupd.ports.BootSettings;

/**
 * REVERTING: an update that stops before its commit point leaves the device as it found it — boot settings on
 * the active root, its boot files, no breadcrumbs, the spare slot not bootable, the supervisor running.
 */
public final class RevertStep implements Step {
    private final Device device;

    public RevertStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        String active = ctx.activeSlot() != null ? ctx.activeSlot() : device.slots().activeSlot();
        BootSettings wanted = new BootSettings(device.slots().partitionOf(active), false, 0);
        if (!wanted.equals(device.bootloader().read())) {
            device.bootloader().write(wanted);
        }
        if (ctx.updateId() != null) {
            var backup = device.data().bootBackupDir(ctx.updateId());
            if (device.boot().hasCompleteBackup(backup)) {
                device.boot().restore(backup, device.bootFilePolicy());
            }
            Trees.deleteRecursively(backup);
            CachePruning.afterRevert(device, ctx, log);
            Trees.deleteRecursively(device.data().workDir(ctx.updateId()));
        }
        device.state().disarm();
        if (ctx.spareSlot() != null) {
            device.slots().markNotBootable(ctx.spareSlot());
        }
        device.supervisor().start();
        log.info("update reverted; the device runs " + ctx.fromVersion() + ": " + ctx.reason());
        if (!active.equals(device.slots().activeSlot())) {
            // only after a lost database: the settings name the old OS, but the new one is running
            device.power().reboot("back to " + ctx.fromVersion());
        }
        return StepOutcome.succeeded();
    }
}
