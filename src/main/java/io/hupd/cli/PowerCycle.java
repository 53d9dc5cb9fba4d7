package io.hupd.cli;

import io.hupd.adapters.sim.SimDevice;
import io.hupd.machine.UpdateState;
import io.hupd.runner.DeviceBusyException;
import io.hupd.runner.DeviceLock;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/** Power-ons of the simulated device: the firmware, the OS coming up, then hupd's boot-time half. */
final class PowerCycle {
    /** How one power-on ended. */
    enum End { WATCHDOG_RESET, REBOOTING, UPDATE_IN_FLIGHT, SETTLED }

    static final int MAX_POWER_ONS = 25;

    private PowerCycle() {}

    static End once(Path dir, PrintStream out, boolean quiet) throws IOException, InterruptedException {
        try (Session s = new Session(dir, out, quiet)) {
            SimDevice.PowerOn on;
            try (DeviceLock lock = DeviceLock.tryAcquire(s.service.lockFile()).orElseThrow(() ->
                    new DeviceBusyException("another hupd process holds this device's lock: it cannot be powered"
                            + " on while an update runs"))) {
                on = s.sim.powerOn();
            }
            if (!on.osUp()) {
                say(out, quiet, "power-on: " + on.detail());
                return End.WATCHDOG_RESET;
            }
            say(out, quiet, "power-on: " + on.detail() + ", running "
                    + s.device.slots().osRelease(on.slot()).getOrDefault("VERSION_ID", "?"));
            UpdateState state = s.service.onPowerOn();
            if (s.device.power().rebootRequested()) {
                return End.REBOOTING;
            }
            return state.inFlight() ? End.UPDATE_IN_FLIGHT : End.SETTLED;
        }
    }

    /** Power-ons until the device runs an OS with no update in flight; false when it never settles. */
    static boolean untilSettled(Path dir, PrintStream out, boolean quiet) throws IOException, InterruptedException {
        for (int i = 0; i < MAX_POWER_ONS; i++) {
            End end = once(dir, out, quiet);
            if (end == End.SETTLED) {
                return true;
            }
        }
        return false;
    }

    private static void say(PrintStream out, boolean quiet, String line) {
        if (!quiet) {
            out.println(line);
        }
    }
}
