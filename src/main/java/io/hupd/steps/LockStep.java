package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.machine.UpdateContext;

/**
 * LOCKED: the process holds the device lock (taken before anything was persisted, so a second update changes
 * nothing). Records what the device looks like as the update begins; everything later compares against it.
 */
public final class LockStep implements Step {
    private final Device device;

    public LockStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        ctx.activeSlot = device.slots().activeSlot();
        ctx.spareSlot = device.slots().spareSlot();
        ctx.fromVersion = device.slots().osRelease(ctx.activeSlot).get("VERSION_ID");
        ctx.supervisorVersionBefore = device.supervisor().version().orElse(null);
        ctx.vpnWasOnline = device.system().vpnOnline();
        log.info("update " + ctx.updateId + ": " + ctx.fromVersion + " (slot " + ctx.activeSlot + ") -> "
                + ctx.targetVersion + " (slot " + ctx.spareSlot + ")");
        return StepOutcome.succeeded();
    }
}
