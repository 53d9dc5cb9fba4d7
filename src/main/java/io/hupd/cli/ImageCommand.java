package io.hupd.cli;

import io.hupd.image.FsImageWriter;
import io.hupd.image.ImageReference;
import io.hupd.image.ImageSpec;
import io.hupd.image.OciLayoutWriter;
import io.hupd.image.ResolvedImage;
import io.hupd.ports.UserInputException;
import io.hupd.steps.OsVersion;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "image", mixinStandardHelpOptions = true, description = "OS images.",
        subcommands = ImageCommand.Create.class)
final class ImageCommand implements Runnable {
    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "say what: image create");
    }

    // Not mixinStandardHelpOptions: its --version (print hupd's version) would take CLI.md's --version V.
    @Command(name = "create", description = "Pack a folder as a one-layer OS image in an OCI image layout.")
    static final class Create implements Callable<Integer> {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;
        @Option(names = "--rootfs", required = true, paramLabel = "DIR") Path rootfs;
        @Option(names = "--version", required = true, paramLabel = "V") String version;
        @Option(names = "--device-type", required = true, paramLabel = "T") String deviceType;
        @Option(names = "--arch", defaultValue = "arm64") String arch;
        @Option(names = "--supervisor-version", paramLabel = "V") String supervisorVersion;
        @Option(names = "--output", required = true, paramLabel = "oci:PATH[:TAG]") String output;
        @Option(names = "--format", defaultValue = "tar", paramLabel = "tar|ext4",
                description = "tar: one gzip tar layer (default); ext4: a reproducible ext4 image in chunks, "
                        + "streamed into the slot and fetched as chunk deltas (docs/fs-images.md)")
        String format;
        @Option(names = "--fs-size", paramLabel = "BYTES", description = "with --format ext4: the filesystem's "
                + "size (default: sized from the tree)")
        long fsSize;
        @Mixin Common.Debug debug;

        @Override
        public Integer call() throws Exception {
            OsVersion.parse(version);
            ImageReference ref = ImageReference.parse(output);
            if (!ref.isOciLayout()) {
                throw new UserInputException("--output must be an OCI layout (oci:PATH[:TAG]), not " + output);
            }
            ImageSpec spec = new ImageSpec(version, deviceType, arch, Optional.ofNullable(supervisorVersion));
            ResolvedImage img = switch (format) {
                case "tar" -> {
                    if (fsSize != 0) {
                        throw new UserInputException("--fs-size goes with --format ext4");
                    }
                    yield OciLayoutWriter.write(rootfs, spec, ref.layoutPath(), ref.tag());
                }
                case "ext4" -> FsImageWriter.write(rootfs, spec, ref.layoutPath(), ref.tag(), fsSize);
                default -> throw new UserInputException("--format must be tar or ext4, not '" + format + "'");
            };
            System.out.println("image " + ref + ": " + img.manifestDigest());
            return Main.OK;
        }
    }
}
