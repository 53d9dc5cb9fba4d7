package io.hupd.adapters.bootloader;

import io.hupd.ports.Bootloader;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/** The bootloader-settings flavours a device can have, by the names used in device.json and on the CLI. */
public final class Bootloaders {
    private static final List<String> FLAVOURS = List.of(UBootTextEnv.FLAVOUR, GrubEnv.FLAVOUR,
            UBootBinaryEnv.FLAVOUR);

    private Bootloaders() {}

    /** Opens the settings of a flavour on a boot partition folder; nothing is read until asked. */
    public static Bootloader open(String flavour, Path bootDir) {
        if (flavour == null) {
            throw unknown(null);
        }
        return switch (flavour) {
            case UBootTextEnv.FLAVOUR -> new UBootTextEnv(bootDir);
            case GrubEnv.FLAVOUR -> new GrubEnv(bootDir);
            case UBootBinaryEnv.FLAVOUR -> new UBootBinaryEnv(bootDir);
            default -> throw unknown(flavour);
        };
    }

    /**
     * Fresh settings for a new simulated device: {@code rootPart} named, no trial, no count. For U-Boot a present
     * {@code bootLimit} becomes {@code os_bc_lim} in extra_uEnv.txt (the user's other lines there are kept);
     * absent, an existing extra_uEnv.txt is left alone. For uboot-env it becomes {@code os_bc_lim} in the new
     * environment, next to a new {@code fw_env.config} describing the two copies in {@code uboot.env}. GRUB's limit is fixed by its script, so a limit for it is
     * refused rather than silently ignored. GRUB's grubenv goes to {@code EFI/BOOT/} when the boot folder
     * already has that folder (its boot files came from an EFI image), else to {@code grub/}: the same rule
     * {@link #open} uses to find it again.
     */
    public static Bootloader create(String flavour, Path bootDir, int rootPart, OptionalInt bootLimit)
            throws IOException {
        Bootloader opened = open(flavour, bootDir);
        if (rootPart < 1 || rootPart > 0xff) {
            throw new UserInputException("root partition " + rootPart + " is out of range (1-255)");
        }
        if (bootLimit.isPresent() && bootLimit.getAsInt() < 0) {
            throw new UserInputException("boot limit " + bootLimit.getAsInt() + " is negative");
        }
        if (opened instanceof UBootTextEnv u) {
            u.create(rootPart, bootLimit);
        } else if (opened instanceof GrubEnv g) {
            if (bootLimit.isPresent()) {
                throw new UserInputException("--boot-limit applies to U-Boot only: GRUB's script always falls"
                        + " back after one failed trial boot");
            }
            g.create(rootPart);
        } else if (opened instanceof UBootBinaryEnv b) {
            b.create(rootPart, bootLimit);
        }
        return opened;
    }

    public static List<String> flavours() {
        return FLAVOURS;
    }

    private static UserInputException unknown(String flavour) {
        return new UserInputException("unknown bootloader flavour '" + flavour + "' (known: "
                + String.join(", ", FLAVOURS) + ")");
    }
}
