package io.hupd.cli;

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
        Common.DeviceDir dir = openDevice(settings);
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
     * The one place the daemon opens its device: the simulated one in {@code --device DIR}, or the real one its
     * settings name (opened once here so that a bad config stops the daemon with its one-line reason).
     */
    private Common.DeviceDir openDevice(DaemonSettings settings) throws java.io.IOException {
        if (simulatedDevice != null) {
            io.hupd.adapters.sim.SimDevice.open(simulatedDevice);
            return Common.DeviceDir.simulated(simulatedDevice.toAbsolutePath());
        }
        io.hupd.adapters.linux.RealDevice.open(settings.deviceConfig());
        return Common.DeviceDir.real(settings.deviceConfig());
    }
}
