package io.hupd.cli;

import io.hupd.image.registry.RegistrySettings;
import io.hupd.machine.UpdateState;
import io.hupd.ports.Progress;
import io.hupd.runner.UpdateRequest;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "update", mixinStandardHelpOptions = true,
        description = "Update the OS up to the commit point (the boot switch) and the reboot.")
final class UpdateCommand implements Callable<Integer> {
    @Mixin Common.DeviceDir device;
    @Option(names = "--target-version", required = true, paramLabel = "V", converter = OptionFormats.Version.class)
    String target;
    @Option(names = "--image", paramLabel = "REF", description = "image sources, tried in order",
            converter = OptionFormats.ImageRef.class) List<String> images = new ArrayList<>();
    @Option(names = "--delta", paramLabel = "REF", description = "a delta source, tried before them",
            converter = OptionFormats.ImageRef.class) String delta;
    @Option(names = "--no-require-upgrade", description = "allow the same or an older version") boolean noRequireUpgrade;
    @Option(names = "--no-reboot", description = "stage the update; it takes effect at the next reboot") boolean noReboot;
    @Option(names = "--json", description = "print the final status as JSON") boolean json;
    @Option(names = "--insecure-registry", paramLabel = "HOST[:PORT]",
            description = "speak plain HTTP to this registry (loopback always is); repeatable",
            converter = OptionFormats.RegistryHost.class)
    List<String> insecureRegistries = new ArrayList<>();
    @Option(names = "--registry-credentials", paramLabel = "FILE",
            description = "registry logins, in the shape of Docker's config.json (\"auths\")")
    Path registryCredentials;
    @Option(names = "--registry-speed-limit", paramLabel = "BYTES",
            description = "a download that gets fewer bytes than this in --registry-speed-time is stalled and cut"
                    + " (default 1024)", converter = OptionFormats.PositiveLong.class)
    Long speedLimit;
    @Option(names = "--registry-speed-time", paramLabel = "SECONDS",
            description = "the window of --registry-speed-limit (default 20)",
            converter = OptionFormats.PositiveInt.class)
    Integer speedTime;
    @Option(names = "--registry-ca", paramLabel = "HOST[:PORT]=FILE",
            description = "reach this registry over TLS, trusting only the CAs in FILE (PEM); repeatable",
            converter = {OptionFormats.RegistryHost.class, OptionFormats.FileName.class})
    java.util.Map<String, Path> registryCa = new java.util.LinkedHashMap<>();
    @Mixin Common.Debug debug;

    @Override
    public Integer call() throws Exception {
        for (var e : registryCa.entrySet()) {
            checkRegistryCa(e.getKey(), e.getValue());
        }
        UpdateRequest request = new UpdateRequest(target, images, delta, !noRequireUpgrade, !noReboot);
        RegistrySettings registries = RegistrySettings.of(insecureRegistries, registryCredentials, speedLimit,
                speedTime);
        var daemon = DaemonClient.connect(DaemonSocket.forDevice(device));
        if (daemon.isPresent()) {
            try (DaemonClient d = daemon.get()) {
                return d.update(request, json, registries, registryCa);
            }
        }
        return execute(device, request, registries, registryCa, json, System.out, System.err, Progress.NONE,
                state -> { });
    }

    /** A {@code --registry-ca} bundle must be there and hold certificates, whoever runs the update. */
    static void checkRegistryCa(String host, Path file) throws java.io.IOException {
        if (!java.nio.file.Files.isRegularFile(file)) {
            throw new io.hupd.ports.UserInputException("--registry-ca " + host + ": " + file + " does not exist");
        }
        io.hupd.image.registry.RegistryTls.context(file);
    }

    /**
     * The update itself, in this process: what {@code hupd update} does without a daemon and what the daemon does
     * for a client (whose lines are {@code out} and {@code err}).
     */
    static int execute(Common.DeviceDir where, UpdateRequest request, RegistrySettings registries,
            java.util.Map<String, Path> registryCa, boolean json, PrintStream out, PrintStream err,
            Progress alsoTold, Consumer<String> states) throws Exception {
        try (Session s = new Session(where, out, json, registries, registryCa, alsoTold)) {
            s.log.onState(states);
            UpdateState end = s.service.update(request);
            var status = StatusReport.collect(s.device, s.store(), s.poweredOn());
            if (json) {
                out.println(Common.JSON.writeValueAsString(status));
            }
            if (end == UpdateState.FAILED) {
                err.println("hupd: update failed: " + Main.oneLine(String.valueOf(status.get("reason"))));
                return Main.FAILED;
            }
            if (!json) {
                out.println(end == UpdateState.REBOOTING
                        ? (request.reboot() ? "update staged and the device is rebooting: 'hupd boot' powers it on"
                                : "update staged: " + request.targetVersion() + " runs after the next reboot")
                        : "update stopped in " + end);
            }
            return end == UpdateState.REBOOTING ? Main.OK : Main.FAILED;
        }
    }
}
