package io.hupd.cli;

import io.hupd.machine.UpdateState;
import java.io.PrintStream;
import java.nio.file.Path;
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
        var daemon = DaemonClient.connect(DaemonSocket.forDevice(device));
        if (daemon.isPresent()) {
            try (DaemonClient d = daemon.get()) {
                return d.abort();
            }
        }
        return execute(device, System.out);
    }

    static int execute(Common.DeviceDir where, PrintStream out) throws Exception {
        try (Session s = new Session(where, out, false)) {
            UpdateState end = s.service.abort();
            out.println("update reverted (" + end + "); the device runs its previous OS");
            return Main.OK;
        }
    }
}
