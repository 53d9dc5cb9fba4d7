package io.hupd.ports;

/**
 * What the bootloader reads to choose a root: the partition it names, whether a trial boot is on, and how many
 * trial boots it has counted. Partition numbers are those of the device (boot = 1, root A = 2, root B = 3);
 * each flavour writes them in its own notation (hex for U-Boot text, decimal for GRUB).
 */
public record BootSettings(int rootPart, boolean upgradeAvailable, int bootcount) {
    public BootSettings {
        if (rootPart < 1 || rootPart > 0xff) {
            throw new IllegalArgumentException("root partition out of range: " + rootPart);
        }
        if (bootcount < 0) {
            throw new IllegalArgumentException("bootcount < 0");
        }
    }

    public BootSettings withBootcount(int n) {
        return new BootSettings(rootPart, upgradeAvailable, n);
    }
}
