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
        String active = device.slots().activeSlot();
        String spare = device.slots().spareSlot();
        String fromVersion = device.slots().osRelease(active).get("VERSION_ID");
        String supervisor = device.supervisor().version().orElse(null);
        boolean vpnOnline = device.system().vpnOnline();
        log.info("update " + ctx.updateId() + ": " + fromVersion + " (slot " + active + ") -> "
                + ctx.targetVersion() + " (slot " + spare + ")");
        return StepOutcome.succeeded().with(c -> c.activeSlot(active).spareSlot(spare).fromVersion(fromVersion)
                .supervisorVersionBefore(supervisor).vpnWasOnline(vpnOnline));
    }
}
