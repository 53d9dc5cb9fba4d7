package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.machine.UpdateContext;

/** ARMING_ROLLBACKS (SPEC §3 step 8): breadcrumbs and the VPN's state, durable before the switch. */
public final class ArmRollbacksStep implements Step {
    private final Device device;

    public ArmRollbacksStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        device.state().arm(ctx.vpnWasOnline());
        log.info("rollbacks armed (VPN was " + (ctx.vpnWasOnline() ? "online" : "offline") + ")");
        return StepOutcome.succeeded();
    }
}
