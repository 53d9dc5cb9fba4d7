package io.hupd.adapters.sim;

import io.hupd.adapters.bootloader.GrubEnv;
import io.hupd.adapters.bootloader.UBootBinaryEnv;
import io.hupd.adapters.bootloader.UBootTextEnv;
import io.hupd.domain.Slot;
import io.hupd.ports.Bootloader;
import java.io.IOException;
import java.util.Arrays;
import java.util.Optional;

/**
 * The simulated device's firmware: one power-on as the real bootloader runs hupd's boot scripts over the same
 * settings files, read with the same codecs the adapters use. On hardware the firmware does this itself, so
 * it is no part of the {@link Bootloader} port.
 */
public final class SimFirmware {
    /**
     * The simulated disk's layout, the one the scripts in {@code bootloader/} boot: the boot partition is 1,
     * root A is 2 and root B is 3.
     */
    static final int ROOT_A = partitionOf(Slot.A);
    static final int ROOT_B = partitionOf(Slot.B);

    private SimFirmware() {}

    static int partitionOf(Slot slot) {
        return slot == Slot.A ? 2 : 3;
    }

    static Optional<Slot> slotOf(int partition) {
        return Arrays.stream(Slot.values()).filter(s -> partitionOf(s) == partition).findFirst();
    }

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
