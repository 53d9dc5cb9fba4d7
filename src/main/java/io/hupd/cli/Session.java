package io.hupd.cli;

import io.hupd.adapters.sim.SimDevice;
import io.hupd.image.ImageSources;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.image.registry.RegistrySettings;
import io.hupd.image.trust.TrustStore;
import io.hupd.machine.MachineLimits;
import io.hupd.persistence.StateStore;
import io.hupd.ports.Clock;
import io.hupd.ports.Device;
import io.hupd.runner.StepRegistry;
import io.hupd.runner.UpdateLog;
import io.hupd.runner.UpdateService;
import io.hupd.web.ProgressFile;
import java.io.PrintStream;
import java.nio.file.Path;

/** One command's view of a simulated device: its ports, its log, its update service. */
final class Session implements AutoCloseable {
    final SimDevice sim;
    final Device device;
    final UpdateLog log;
    final UpdateService service;

    /** A command without registry options: an update it resumes fetches with those it recorded. */
    Session(Path dir, PrintStream out, boolean quiet) {
        this(dir, out, quiet, null);
    }

    /** @param registries {@code hupd update}'s registry options, or null for a command that has none */
    Session(Path dir, PrintStream out, boolean quiet, RegistrySettings registries) {
        this(dir, out, quiet, registries, java.util.Map.of());
    }

    /** @param registryCa {@code --registry-ca} bundles, added to the device's trust store's own */
    Session(Path dir, PrintStream out, boolean quiet, RegistrySettings registries,
            java.util.Map<String, Path> registryCa) {
        this.sim = SimDevice.open(dir);
        RegistryOptions options = RegistryOptions.DEFAULT.withArchitecture(sim.config().architecture());
        // The progress file lets the status page (another process) show a running download or write.
        this.log = new UpdateLog(out, new ProgressFile(sim.dataDir().resolve("hupd/progress.json"),
                new ConsoleProgress(out, System.console() != null && !quiet)));
        TrustStore trust = TrustStore.load(sim.trustDir()).withRegistryCa(registryCa).warningsTo(log::warn);
        this.device = sim.ports(Clock.SYSTEM, ImageSources.factory(options, registries, trust));
        log.quiet(quiet);
        this.service = new UpdateService(device, sim.dataDir(), MachineLimits.DEFAULT, log, new StepRegistry(device));
    }

    StateStore store() {
        return service.store();
    }

    @Override
    public void close() {
        log.close();
    }
}
