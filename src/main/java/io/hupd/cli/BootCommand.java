package io.hupd.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "boot", mixinStandardHelpOptions = true,
        description = {"Power the simulated device on: the bootloader picks a root, the OS starts, then"
                + " rollback-altboot, rollback-health, commit, or the resumption of an interrupted update.",
                "On a real device (--device-config, or /etc/hupd/device.json) the after-boot half only: which root"
                        + " came up against what the update expected, health checks, commit or rollback, resume"
                        + " or revert of an interrupted update."})
final class BootCommand implements Callable<Integer> {
    @Mixin Common.DeviceDir device;
    @Option(names = "--until-settled", description = "power on again (watchdog resets, rollback reboots) until"
            + " the device runs an OS with no update in flight, then print the status") boolean untilSettled;
    @Option(names = "--json", description = "print the final status as JSON") boolean json;
    @Mixin Common.Debug debug;

    @Override
    public Integer call() throws Exception {
        if (!device.simulated()) {
            return afterBoot();
        }
        int code = Main.OK;
        if (untilSettled) {
            if (!PowerCycle.untilSettled(device.dir, System.out, json)) {
                System.err.println("hupd: the device did not settle after " + PowerCycle.MAX_POWER_ONS + " power-ons");
                code = Main.FAILED;
            }
        } else {
            PowerCycle.End end = PowerCycle.once(device.dir, System.out, json);
            if (!json && end != PowerCycle.End.SETTLED) {
                System.out.println(switch (end) {
                    case WATCHDOG_RESET -> "the device reset: power it on again ('hupd boot')";
                    case REBOOTING -> "the device is rebooting: power it on again ('hupd boot')";
                    default -> "an update is in flight";
                });
            }
        }
        StatusCommand.print(device.dir, json || untilSettled, json);
        return code;
    }

    /** A real device: its firmware has chosen and booted a root; hupd's part starts here. */
    private int afterBoot() throws Exception {
        if (untilSettled) {
            throw new picocli.CommandLine.ParameterException(device.spec.commandLine(), "--until-settled powers a"
                    + " simulated device on again and again; a real device reboots by itself");
        }
        try (Session s = new Session(device, System.out, json)) {
            if (!json) {
                System.out.println("running root " + s.real.running().slot() + " (" + s.real.running().how() + ")");
            }
            var state = s.service.onPowerOn();
            if (!json && s.device.power().rebootRequested()) {
                System.out.println("rebooting (" + state + ")");
            } else if (!json) {
                System.out.println(state.inFlight() ? "an update is in flight (" + state + ")" : "settled: " + state);
            }
            StatusCommand.print(s, json);
            return Main.OK;
        }
    }
}
