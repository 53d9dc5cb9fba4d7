package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.machine.UpdateContext;
import io.hupd.ports.BootSettings;
import java.util.Optional;

/**
 * SWITCHING_BOOT — the commit point (SPEC §3 step 9): one atomic write makes the next boot try the new root.
 * Refused unless the spare slot is verified to hold the target, whatever the database says.
 */
public final class SwitchBootStep implements Step {
    private final Device device;

    public SwitchBootStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        Optional<String> verified = device.slots().verifiedVersion(ctx.spareSlot());
        if (verified.isEmpty() || !verified.get().equals(ctx.targetVersion())) {
            return StepOutcome.failed("slot " + ctx.spareSlot() + " is not verified to hold " + ctx.targetVersion()
                    + ": not switching to it");
        }
        device.bootloader().write(new BootSettings(device.slots().partitionOf(ctx.spareSlot()), true, 0));
        log.info("boot settings switched to slot " + ctx.spareSlot() + " (trial boot armed)");
        return StepOutcome.succeeded();
    }
}
