package io.hupd.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Current state, versions, slots, boot settings, breadcrumbs, last result and its reason.")
final class StatusCommand implements Callable<Integer> {
    @Mixin Common.DeviceDir device;
    @Option(names = "--json") boolean json;
    @Mixin Common.Debug debug;

    @Override
    public Integer call() throws Exception {
        print(device.dir, true, json);
        return Main.OK;
    }

    static void print(Path dir, boolean show, boolean json) throws Exception {
        if (!show) {
            return;
        }
        try (Session s = new Session(dir, System.out, true)) {
            var m = StatusReport.collect(s.device, s.store(), s.sim.poweredOn());
            System.out.print(json ? Common.JSON.writeValueAsString(m) + "\n" : StatusReport.text(m));
        }
    }
}
