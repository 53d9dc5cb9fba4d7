package io.hupd.cli;

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
        @Mixin Common.Debug debug;

        @Override
        public Integer call() throws Exception {
            OsVersion.parse(version);
            ImageReference ref = ImageReference.parse(output);
            if (!ref.isOciLayout()) {
                throw new UserInputException("--output must be an OCI layout (oci:PATH[:TAG]), not " + output);
            }
            ResolvedImage img = OciLayoutWriter.write(rootfs, new ImageSpec(version, deviceType, arch,
                    Optional.ofNullable(supervisorVersion)), ref.layoutPath(), ref.tag());
            System.out.println("image " + ref + ": " + img.manifestDigest());
            return Main.OK;
        }
    }
}
