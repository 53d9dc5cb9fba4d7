package io.hupd.cli;

import io.hupd.ports.UserInputException;
import io.hupd.web.StatusServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "daemon", mixinStandardHelpOptions = true,
        description = {"The on-device service: the local API on a Unix socket (start, abort, status and follow an"
                + " update; 'hupd update' and 'hupd abort' go through it when it runs) and the status page.",
                "On a real device hupd-boot.service runs the after-boot half (hupd boot) before this starts."
                        + " The API and its settings: docs/service.md."})
final class DaemonCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE",
            description = "the daemon's settings (default /etc/hupd/hupd.json; the defaults when it is missing)")
    Path config;
    @Option(names = "--device", paramLabel = "DIR",
            description = "serve the simulated device in DIR (its socket is DIR/run/hupd/hupd.sock)")
    Path simulatedDevice;
    @Mixin Common.Debug debug;

    @Override
    public Integer call() throws Exception {
        DaemonSettings settings = DaemonSettings.load(config);
        Path dir = openDevice(settings);
        Path socket = simulatedDevice != null ? DaemonSocket.forDevice(dir) : settings.socket();
        CountDownLatch stop = new CountDownLatch(1);
        StatusServer page = settings.statusPort() == null ? null : ServeCommand.statusPage(dir, settings.statusPort());
        LocalApi api = new LocalApi(socket, dir, System.out);
        try {
            api.start();
        } catch (Exception e) {
            if (page != null) {
                page.close();
            }
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                api.close();
            } catch (java.io.IOException ignored) {
                // the process is ending; a stale socket is detected and replaced at the next start
            }
            if (page != null) {
                page.close();
            }
            stop.countDown();
        }, "hupd-daemon-stop"));
        if (page != null) {
            System.out.println("hupd daemon: status page " + page.url());
        }
        System.out.println("hupd daemon: listening on " + socket);
        System.out.flush();
        stop.await();
        return Main.OK;
    }

    /**
     * The one place the daemon opens its device. The simulated device is opened as every command opens it
     * ({@link Session}, by folder); the real device, described by {@code settings.deviceConfig()}, is opened here
     * once hupd has an adapter for it.
     */
    private Path openDevice(DaemonSettings settings) {
        if (simulatedDevice != null) {
            io.hupd.adapters.sim.SimDevice.open(simulatedDevice);
            return simulatedDevice.toAbsolutePath();
        }
        throw new UserInputException("this hupd has no adapter for a real device yet (" + settings.deviceConfig()
                + "): give --device DIR for a simulated one");
    }
}
