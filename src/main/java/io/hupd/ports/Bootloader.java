package io.hupd.ports;

import java.io.IOException;
import java.util.Map;

/**
 * The bootloader's settings as the real bootloader reads them. Every write is crash-atomic and read back; a
 * read-back that differs throws, so a step never goes on after a write it cannot prove.
 */
public interface Bootloader {
    /** {@code uboot}, {@code grub} or {@code uboot-env}. */
    String flavour();

    /** Parses the settings; throws {@link BootSettingsException} (one-line message) when they do not parse. */
    BootSettings read() throws IOException;

    /** Writes all of the settings in one atomic step, then reads them back. */
    void write(BootSettings settings) throws IOException;

    /** The failed-boot limit the bootloader applies (U-Boot {@code os_bc_lim}; GRUB: fixed). */
    int bootLimit() throws IOException;

    /** The raw variables, for {@code hupd status} (names as the bootloader spells them). */
    Map<String, String> rawVariables() throws IOException;
}
