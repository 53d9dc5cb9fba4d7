package io.hupd.ports;

import java.util.Set;

/**
 * Which boot-partition files an update may touch (paths relative to the partition, with '/' separators).
 *
 * @param keepBack never overwritten (the user's files: config.json, config.txt, …)
 * @param copyIfMissing copied only when absent (extra_uEnv.txt, grub_extraenv)
 * @param bootloaderOwned the bootloader settings, written only through {@link Bootloader}
 */
public record BootFilePolicy(Set<String> keepBack, Set<String> copyIfMissing, Set<String> bootloaderOwned) {
    /** balena's keep-back list (meta-balena BALENA_BOOTFILES_BLACKLIST). */
    public static final BootFilePolicy BALENA = new BootFilePolicy(
            Set.of("config.json", "config.txt", "splash/balena-logo.png", "extra_uEnv.txt",
                    "EFI/BOOT/grub_extraenv", "grub/grub_extraenv", "configfs.json", "hw_intfc.conf", "bootenv"),
            Set.of("extra_uEnv.txt", "EFI/BOOT/grub_extraenv", "grub/grub_extraenv"),
            Set.of("resinOS_uEnv.txt", "bootcount.env", "EFI/BOOT/grubenv", "grub/grubenv", "uboot.env",
                    "fw_env.config"));

    /** Files that are never replaced by an update's own copy (kept back or owned by the bootloader). */
    public boolean neverOverwritten(String path) {
        return keepBack.contains(path) || bootloaderOwned.contains(path);
    }
}
