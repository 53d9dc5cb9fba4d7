package io.hupd.cli;

import java.nio.file.Path;

/** Where a device's daemon listens, so that a command finds it from the same device argument. */
final class DaemonSocket {
    /** The real device's socket when hupd.json names none (the unit's RuntimeDirectory, mode 0700). */
    static final Path REAL_DEVICE = Path.of("/run/hupd/hupd.sock");

    private DaemonSocket() {}

    /** A simulated device's daemon listens in the device's own /run: one daemon per device folder. */
    static Path forDevice(Path simulatedDeviceDir) {
        return simulatedDeviceDir.toAbsolutePath().resolve("run/hupd/hupd.sock");
    }

    /** A real device has one daemon, at the default socket (a daemon configured elsewhere is reached by its config). */
    static Path forDevice(Common.DeviceDir where) {
        return where.simulated() ? forDevice(where.dir) : REAL_DEVICE;
    }
}
