package io.hupd.cli;

import io.hupd.web.LiveStatus;
import io.hupd.web.ServeToken;
import io.hupd.web.StatusServer;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"A local web page: the update machine with the current state lit, this update's way through"
                + " it, its history, download/write progress and the last result, updated live.",
                "Listens on 127.0.0.1 only. Every request needs the token in DIR/data/hupd/serve-token (mode 0600,"
                        + " made on first use); open the URL this command prints."})
final class ServeCommand implements Callable<Integer> {
    @Mixin Common.DeviceDir device;
    @Option(names = "--port", paramLabel = "N", defaultValue = "8080",
            description = "port on 127.0.0.1 (0: any free one); default ${DEFAULT-VALUE}",
            converter = OptionFormats.Port.class) int port;
    @Mixin Common.Debug debug;

    @Override
    public Integer call() throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        Path tokenFile = tokenFile(device);
        try (StatusServer server = statusPage(device, port)) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.close();
                stop.countDown();
            }));
            System.out.println("hupd serve: " + server.url());
            System.out.println("(the token is in " + tokenFile + "; Ctrl-C stops the server)");
            System.out.flush();
            stop.await();
        }
        return Main.OK;
    }

    static Path tokenFile(Common.DeviceDir where) throws java.io.IOException {
        try (Session s = new Session(where, new PrintStream(OutputStream.nullOutputStream()), true)) {
            return s.dataDir.resolve("hupd/serve-token");
        }
    }

    /** The status page of the device, on 127.0.0.1:{@code port} (also what the daemon serves). */
    static StatusServer statusPage(Common.DeviceDir where, int port) throws java.io.IOException {
        Path tokenFile = tokenFile(where);
        String token = ServeToken.ensure(tokenFile);
        PrintStream silent = new PrintStream(OutputStream.nullOutputStream());
        LiveStatus live = new LiveStatus(tokenFile.getParent(), () -> {
            try (Session s = new Session(where, silent, true)) {
                StatusReport.Reading r = StatusReport.read(s.store());
                return new LiveStatus.Reading(StatusReport.collect(s.device, r, s.poweredOn()), r.journal());
            }
        });
        return new StatusServer(port, token, live);
    }
}
