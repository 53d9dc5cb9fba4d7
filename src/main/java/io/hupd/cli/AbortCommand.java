package io.hupd.cli;

import io.hupd.machine.UpdateState;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "abort", mixinStandardHelpOptions = true,
        description = "Revert an update that has not reached its commit point.")
final class AbortCommand implements Callable<Integer> {
    @Mixin Common.DeviceDir device;
    @Mixin Common.Debug debug;

    @Override
    public Integer call() throws Exception {
        try (Session s = new Session(device, System.out, false)) {
            UpdateState end = s.service.abort();
            System.out.println("update reverted (" + end + "); the device runs its previous OS");
            return Main.OK;
        }
    }
}
