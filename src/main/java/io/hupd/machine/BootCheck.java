package io.hupd.machine;

/**
 * The facts of the first boot after the switch (rollback-altboot, SPEC §5.1): which root came up, what the boot
 * settings name now, and whether the trial was armed. A bootloader that gave up on the new root has booted the
 * old one and pointed its settings back at it, so the booted partition differs from the one they name.
 *
 * @param trialArmed the altboot breadcrumb is in the state partition (a trial is guarded)
 * @param bootcount the trial boots the bootloader counted, and {@code bootLimit} where it gives up (for the reason)
 */
public record BootCheck(String bootedSlot, int bootedPart, int settingsRootPart, boolean trialArmed, int bootcount,
        int bootLimit, String targetSlot, String targetVersion) implements Finding {

    public boolean bootloaderFellBack() {
        return trialArmed && settingsRootPart != bootedPart;
    }

    @Override
    public String problem() {
        return !bootloaderFellBack() ? null : "the new OS " + targetVersion + " (slot " + targetSlot + ") did not"
                + " come up: the bootloader fell back to slot " + bootedSlot + " (bootcount " + bootcount + ", limit "
                + bootLimit + ")";
    }
}
