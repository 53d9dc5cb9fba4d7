package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateEvent;
import io.hupd.ports.BootSettings;
import io.hupd.ports.StatePartition;

/**
 * CHECKING_ALTBOOT — rollback-altboot (SPEC §5.1): after a power-on, if the booted root is not the one the boot
 * settings name, the bootloader fell back: the new OS never came up.
 */
public final class CheckAltbootStep implements Step {
    private final Device device;

    public CheckAltbootStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        String booted = device.slots().activeSlot();
        BootSettings settings = device.bootloader().read();
        int bootedPart = device.slots().partitionOf(booted);
        if (device.state().has(StatePartition.ALTBOOT_BREADCRUMB) && settings.rootPart() != bootedPart) {
            return StepOutcome.of(UpdateEvent.ALTBOOT_DETECTED, "the new OS " + ctx.targetVersion + " (slot "
                    + ctx.spareSlot + ") did not come up: the bootloader fell back to slot " + booted
                    + " (bootcount " + settings.bootcount() + ", limit " + device.bootloader().bootLimit() + ")");
        }
        log.info("booted slot " + booted + " as the boot settings name");
        return StepOutcome.succeeded();
    }
}
