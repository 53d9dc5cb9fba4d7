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
        Optional<String> verified = device.slots().verifiedVersion(ctx.spareSlot);
        if (verified.isEmpty() || !verified.get().equals(ctx.targetVersion)) {
            return StepOutcome.failed("slot " + ctx.spareSlot + " is not verified to hold " + ctx.targetVersion
                    + ": not switching to it");
        }
        device.bootloader().write(new BootSettings(device.slots().partitionOf(ctx.spareSlot), true, 0));
        log.info("boot settings switched to slot " + ctx.spareSlot + " (trial boot armed)");
        return StepOutcome.succeeded();
    }

    /** Whether the switch has happened, read from the ground truth (used by recovery). */
    public static boolean switched(Device device, UpdateContext ctx) throws java.io.IOException {
        BootSettings s = device.bootloader().read();
        return s.upgradeAvailable() && s.rootPart() == device.slots().partitionOf(ctx.spareSlot);
    }

    /**
     * After a power-on with the switch in the boot settings: true when the firmware did not boot under those
     * settings. A switch that was decided but not yet renamed into place when the power went is completed by
     * the boot partition's recovery after the firmware has read the old settings, so the old root is up, the
     * trial flag is set and no trial boot has been counted. A real fallback always counts at least one.
     */
    public static boolean trialStillToCome(Device device, UpdateContext ctx) throws java.io.IOException {
        BootSettings s = device.bootloader().read();
        return !device.slots().activeSlot().equals(ctx.spareSlot) && s.bootcount() == 0;
    }
}
