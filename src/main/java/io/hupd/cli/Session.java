package io.hupd.cli;

import io.hupd.adapters.linux.RealDevice;
import io.hupd.adapters.sim.SimDevice;
import io.hupd.device.Device;
import io.hupd.image.fetch.ImageSources;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.image.registry.RegistrySettings;
import io.hupd.image.trust.TrustStore;
import io.hupd.machine.MachineLimits;
import io.hupd.persistence.StateStore;
import io.hupd.ports.Clock;
import io.hupd.ports.Progress;
import io.hupd.runner.StepRegistry;
import io.hupd.runner.UpdateLog;
import io.hupd.runner.UpdateService;
import io.hupd.web.ProgressFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/** One command's view of a device (simulated or real): its ports, its log, its update service. */
final class Session implements AutoCloseable {
    /** Null on a real device. */
    final SimDevice sim;
    /** Null on a simulated device. */
    final RealDevice real;
    final Path dataDir;
    final Device device;
    final UpdateLog log;
    final UpdateService service;

    /** A command without registry options: an update it resumes fetches with those it recorded. */
    Session(Path dir, PrintStream out, boolean quiet) throws IOException {
        this(SimDevice.open(dir), null, out, quiet, null, java.util.Map.of(), Progress.NONE);
    }

    Session(Common.DeviceDir where, PrintStream out, boolean quiet) throws IOException {
        this(where, out, quiet, null);
    }

    /** @param registries {@code hupd update}'s registry options, or null for a command that has none */
    Session(Common.DeviceDir where, PrintStream out, boolean quiet, RegistrySettings registries) throws IOException {
        this(where, out, quiet, registries, java.util.Map.of(), Progress.NONE);
    }

    /**
     * @param registryCa {@code --registry-ca} bundles, added to the device's trust store's own
     * @param alsoTold told the progress the console is told (the daemon streams it to its clients)
     */
    Session(Common.DeviceDir where, PrintStream out, boolean quiet, RegistrySettings registries,
            java.util.Map<String, Path> registryCa, Progress alsoTold) throws IOException {
        this(where.simulated() ? SimDevice.open(where.dir) : null,
                where.simulated() ? null : RealDevice.open(where.configFile()), out, quiet, registries, registryCa,
                alsoTold);
    }

    private Session(SimDevice sim, RealDevice real, PrintStream out, boolean quiet, RegistrySettings registries,
            java.util.Map<String, Path> registryCa, Progress alsoTold) throws IOException {
        this.sim = sim;
        this.real = real;
        String arch = sim != null ? sim.config().architecture() : real.config().architecture();
        RegistryOptions options = RegistryOptions.DEFAULT.withArchitecture(arch);
        this.dataDir = sim != null ? sim.dataDir() : real.dataDir();
        // The progress file lets the status page (another process) show a running download or write.
        this.log = new UpdateLog(out, new ProgressFile(dataDir.resolve("hupd/progress.json"),
                Progresses.both(new ConsoleProgress(out, System.console() != null && !quiet), alsoTold)));
        TrustStore trust = TrustStore.load(sim != null ? sim.trustDir() : real.trustDir())
                .withRegistryCa(registryCa).warningsTo(log::warn);
        var images = ImageSources.factory(options, registries, trust);
        this.device = sim != null ? sim.ports(Clock.SYSTEM, images) : real.ports(Clock.SYSTEM, images);
        log.quiet(quiet);
        this.service = new UpdateService(device, dataDir, MachineLimits.DEFAULT, log, new StepRegistry(device));
    }

    /** A real device is on whenever hupd runs on it. */
    boolean poweredOn() {
        return sim == null || sim.poweredOn();
    }

    StateStore store() {
        return service.store();
    }

    /** Carries out a reboot the command asked for, now that what it did is recorded (see {@link io.hupd.ports.Power}). */
    @Override
    public void close() throws IOException {
        try {
            device.power().rebootIfRequested();
        } finally {
            log.close();
        }
    }
}
