package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.machine.BootCheck;
import io.hupd.machine.UpdateContext;
import io.hupd.ports.BootSettings;
import io.hupd.ports.StatePartition;

/**
 * CHECKING_ALTBOOT — rollback-altboot (SPEC §5.1): after a power-on, gathers which root came up and what the boot
 * settings name; the machine's guards decide from that whether the bootloader fell back.
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
        BootCheck check = new BootCheck(booted, device.slots().partitionOf(booted), settings.rootPart(),
                device.state().has(StatePartition.ALTBOOT_BREADCRUMB), settings.bootcount(),
                device.bootloader().bootLimit(), ctx.spareSlot(), ctx.targetVersion());
        if (!check.bootloaderFellBack()) {
            log.info("booted slot " + booted + " as the boot settings name");
        }
        return StepOutcome.found(check);
    }
}
