package io.hupd.cli;

import io.hupd.adapters.sim.SimDevice;
import io.hupd.runner.DeviceBusyException;
import io.hupd.runner.DeviceLock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "reboot", mixinStandardHelpOptions = true,
        description = {"A clean reboot (shutdown clears the trial's bootcount), then a power-on.",
                "On a real device: the trial's bootcount cleared, then systemctl reboot (forced when it hangs)."})
final class RebootCommand implements Callable<Integer> {
    @Mixin Common.DeviceDir device;
    @Mixin Common.Debug debug;

    @Override
    public Integer call() throws Exception {
        if (!device.simulated()) {
            return realReboot();
        }
        SimDevice sim = SimDevice.open(device.dir);
        try (DeviceLock lock = DeviceLock.tryAcquire(sim.dataDir().resolve("hupd/lock")).orElseThrow(() ->
                new DeviceBusyException("an update is running on this device: reboot when it ends"))) {
            sim.shutdownCleanly("hupd reboot");
        }
        System.out.println("clean shutdown; powering on");
        PowerCycle.End end = PowerCycle.once(device.dir, System.out, false);
        if (end != PowerCycle.End.SETTLED) {
            System.out.println(end == PowerCycle.End.UPDATE_IN_FLIGHT ? "an update is in flight"
                    : "the device did not come up on its own: power it on again ('hupd boot')");
        }
        return Main.OK;
    }

    /** The shutdown's half is 'hupd clean-shutdown' (run by its unit): here only the trial count and the reboot. */
    private int realReboot() throws Exception {
        try (Session s = new Session(device, System.out, true);
                DeviceLock lock = DeviceLock.tryAcquire(s.service.lockFile()).orElseThrow(() ->
                        new DeviceBusyException("an update is running on this device: reboot when it ends"))) {
            System.out.println(s.real.cleanShutdown());
            System.out.println("rebooting (systemctl reboot)");
            System.out.flush();
            s.device.power().reboot("hupd reboot");
        }
        return Main.OK;
    }
}
