package io.hupd.cli;

import io.hupd.image.authoring.DeltaCreator;
import io.hupd.image.fetch.ImageSources;
import io.hupd.image.registry.RegistryClient;
import io.hupd.image.registry.RegistryCredentials;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.ports.Progress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "delta", mixinStandardHelpOptions = true, description = "Delta updates (docs/delta.md).",
        subcommands = DeltaCommand.Create.class)
final class DeltaCommand implements Runnable {
    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "say what: delta create");
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Make the delta from one OS image to another and write it as an OCI artifact.")
    static final class Create implements Callable<Integer> {
        @Option(names = "--from", required = true, paramLabel = "REF", description = "the image devices run now",
                converter = OptionFormats.ImageRef.class)
        String from;
        @Option(names = "--to", required = true, paramLabel = "REF", description = "the target image",
                converter = OptionFormats.ImageRef.class)
        String to;
        @Option(names = "--output", required = true, paramLabel = "REF",
                description = "oci:PATH:TAG or docker://HOST/REPO:TAG (by convention TARGETTAG-delta-from-VERSION)",
                converter = OptionFormats.ImageRef.class)
        String output;
        @Option(names = "--arch", paramLabel = "ARCH", description = "the image to take from a multi-arch index")
        String arch;
        @Option(names = "--json", description = "print the result as JSON") boolean json;
        @Option(names = "--insecure-registry", paramLabel = "HOST[:PORT]",
                description = "speak plain HTTP to this registry (loopback always is); repeatable",
                converter = OptionFormats.RegistryHost.class)
        List<String> insecureRegistries = new ArrayList<>();
        @Option(names = "--registry-credentials", paramLabel = "FILE",
                description = "registry logins for reading the images, in the shape of Docker's config.json")
        Path registryCredentials;
        @Mixin Common.Debug debug;

        @Override
        public Integer call() throws Exception {
            RegistryOptions options = RegistryOptions.DEFAULT.withInsecure(Set.copyOf(insecureRegistries))
                    .withCredentials(registryCredentials == null ? RegistryCredentials.NONE
                            : RegistryCredentials.load(registryCredentials))
                    .withArchitecture(arch);
            Map<String, RegistryClient> clients = new ConcurrentHashMap<>();
            long start = System.nanoTime();
            DeltaCreator.Result r = new DeltaCreator(ImageSources.factory(options),
                    registry -> clients.computeIfAbsent(registry.toLowerCase(Locale.ROOT),
                            k -> new RegistryClient(registry, options)), options)
                    .create(from, to, output, Progress.NONE);
            double seconds = (System.nanoTime() - start) / 1e9;
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("reference", r.reference());
                out.put("manifestDigest", r.manifestDigest());
                out.put("patchBytes", r.patchBytes());
                out.put("targetCompressedBytes", r.targetCompressedBytes());
                out.put("targetUncompressedBytes", r.targetUncompressedBytes());
                out.put("seconds", Math.round(seconds * 10) / 10.0);
                System.out.println(Common.JSON.writeValueAsString(out));
            } else {
                System.out.printf(Locale.ROOT, "delta %s: %s, %d bytes of patches for %d bytes of image layers"
                        + " (%.1f%%), made in %.1f s%n", r.reference(), r.manifestDigest(), r.patchBytes(),
                        r.targetCompressedBytes(), 100.0 * r.patchBytes() / Math.max(1, r.targetCompressedBytes()),
                        seconds);
            }
            return Main.OK;
        }
    }
}
