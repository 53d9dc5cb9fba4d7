package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.machine.UpdateContext;

/** STOPPING_SUPERVISOR: so that it cannot reboot the device mid-update. The user's applications keep running. */
public final class StopSupervisorStep implements Step {
    private final Device device;

    public StopSupervisorStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        device.supervisor().stop();
        log.info("supervisor stopped");
        return StepOutcome.succeeded();
    }
}
