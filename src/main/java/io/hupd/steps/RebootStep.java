package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.machine.UpdateContext;

/**
 * REBOOTING (SPEC §3 step 10): asks for the reboot and waits for the power-on, which reports BOOTED. With
 * {@code --no-reboot} the device keeps running the old OS until someone reboots it, so its supervisor runs again.
 */
public final class RebootStep implements Step {
    private final Device device;

    public RebootStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        if (ctx.reboot()) {
            log.info("rebooting into " + ctx.targetVersion());
            device.power().reboot("update to " + ctx.targetVersion() + " staged");
        } else {
            device.supervisor().start();
            log.info("update staged; it takes effect at the next reboot");
        }
        return StepOutcome.WAIT;
    }
}
