package io.hupd.cli;

import io.hupd.runner.DeviceBusyException;
import io.hupd.runner.DeviceLock;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "clean-shutdown", mixinStandardHelpOptions = true,
        description = {"Run at an orderly shutdown: during a trial boot, reset the bootloader's trial count so that"
                + " a clean reboot is not counted as a failed boot. Nothing to do outside a trial.",
                "On a simulated device this is the shutdown half of 'hupd reboot' (the device is then off)."})
final class CleanShutdownCommand implements Callable<Integer> {
    @Mixin Common.DeviceDir device;
    @Mixin Common.Debug debug;

    @Override
    public Integer call() throws Exception {
        try (Session s = new Session(device, new PrintStream(OutputStream.nullOutputStream()), true);
                DeviceLock lock = DeviceLock.tryAcquire(s.service.lockFile()).orElseThrow(() ->
                        new DeviceBusyException("an update is running on this device: its trial count is left"
                                + " to it"))) {
            if (s.real != null) {
                System.out.println(s.real.cleanShutdown());
            } else {
                s.sim.shutdownCleanly("hupd clean-shutdown");
                System.out.println("clean shutdown: the simulated device is off ('hupd boot' powers it on)");
            }
        }
        return Main.OK;
    }
}
