package io.hupd.adapters.sim;

import io.hupd.adapters.bootloader.GrubEnv;
import io.hupd.adapters.bootloader.UBootBinaryEnv;
import io.hupd.adapters.bootloader.UBootTextEnv;
import io.hupd.ports.Bootloader;
import java.io.IOException;

/**
 * The simulated device's firmware: one power-on as the real bootloader runs hupd's boot scripts over the same
 * settings files, read with the same codecs the adapters use. On hardware the firmware does this itself, so
 * it is no part of the {@link Bootloader} port.
 */
public final class SimFirmware {
    /** Root A and root B as the scripts in {@code bootloader/} name them (partitions 2 and 3). */
    static final int ROOT_A = 2;
    static final int ROOT_B = 3;

    private SimFirmware() {}

    /**
     * Counts a trial boot when {@code upgrade_available=1} (and saves the count as the firmware does), then
     * returns the partition number it boots.
     */
    public static int selectRoot(Bootloader settings) throws IOException {
        if (settings instanceof UBootTextEnv u) {
            return UBootTextFirmware.selectRoot(u);
        }
        if (settings instanceof GrubEnv g) {
            return GrubFirmware.selectRoot(g);
        }
        if (settings instanceof UBootBinaryEnv b) {
            return UBootEnvFirmware.selectRoot(b);
        }
        throw new IllegalArgumentException("no simulated firmware for " + settings.flavour() + " settings");
    }
}
