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
        print(device, true, json);
        return Main.OK;
    }

    static void print(Common.DeviceDir where, boolean show, boolean json) throws Exception {
        if (!show) {
            return;
        }
        try (Session s = new Session(where, System.out, true)) {
            print(s, json);
        }
    }

    static void print(Session s, boolean json) throws Exception {
        var m = StatusReport.collect(s.device, s.store(), s.poweredOn());
        System.out.print(json ? Common.JSON.writeValueAsString(m) + "\n" : StatusReport.text(m));
    }

    static void print(Path dir, boolean show, boolean json) throws Exception {
        if (!show) {
            return;
        }
        try (Session s = new Session(dir, System.out, true)) {
            print(s, json);
        }
    }
}
