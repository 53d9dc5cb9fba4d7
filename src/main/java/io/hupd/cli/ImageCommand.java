package io.hupd.cli;

import io.hupd.image.authoring.ImageSigning;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.authoring.OciLayoutWriter;
import io.hupd.image.fsimage.FsImageWriter;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.trust.SigstoreKeys;
import io.hupd.ports.UserInputException;
import io.hupd.steps.OsVersion;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "image", mixinStandardHelpOptions = true, description = "OS images.",
        subcommands = {ImageCommand.Create.class, ImageCommand.Keygen.class, ImageCommand.Sign.class})
final class ImageCommand implements Runnable {
    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "say what: image create, image keygen or image sign");
    }

    // Not mixinStandardHelpOptions: its --version (print hupd's version) would take CLI.md's --version V.
    @Command(name = "create", description = "Pack a folder as a one-layer OS image in an OCI image layout.")
    static final class Create implements Callable<Integer> {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;
        @Option(names = "--rootfs", required = true, paramLabel = "DIR") Path rootfs;
        @Option(names = "--version", required = true, paramLabel = "V", converter = OptionFormats.Version.class)
        String version;
        @Option(names = "--device-type", required = true, paramLabel = "T") String deviceType;
        @Option(names = "--arch", defaultValue = "arm64") String arch;
        @Option(names = "--supervisor-version", paramLabel = "V", converter = OptionFormats.Version.class)
        String supervisorVersion;
        @Option(names = "--output", required = true, paramLabel = "oci:PATH[:TAG]",
                converter = OptionFormats.LayoutRef.class) String output;
        @Option(names = "--security-version", paramLabel = "N",
                description = "the anti-rollback security version: a device that committed N refuses images below it",
                converter = OptionFormats.NonNegativeLong.class)
        Long securityVersion;
        @Option(names = "--format", defaultValue = "tar", paramLabel = "tar|ext4", converter = OptionFormats.ImageFormat.class,
                description = "tar: one gzip tar layer (default); ext4: a reproducible ext4 image in chunks, "
                        + "streamed into the slot and fetched as chunk deltas (docs/fs-images.md)")
        String format;
        @Option(names = "--fs-size", paramLabel = "BYTES", description = "with --format ext4: the filesystem's "
                + "size (default: sized from the tree)", converter = OptionFormats.NonNegativeLong.class)
        long fsSize;
        @Mixin Common.Debug debug;

        @Override
        public Integer call() throws Exception {
            OsVersion.parse(version);
            ImageReference ref = ImageReference.parse(output);
            if (!ref.isOciLayout()) {
                throw new UserInputException("--output must be an OCI layout (oci:PATH[:TAG]), not " + output);
            }
            ImageSpec spec = new ImageSpec(version, deviceType, arch, Optional.ofNullable(supervisorVersion),
                    Optional.ofNullable(securityVersion));
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
    @Command(name = "keygen", mixinStandardHelpOptions = true, description = "Make a sigstore key pair for signing"
            + " images: PREFIX.private (encrypted with the passphrase, mode 0600) and PREFIX.pub, the files"
            + " skopeo generate-sigstore-key makes.")
    static final class Keygen implements Callable<Integer> {
        @Option(names = "--output-prefix", required = true, paramLabel = "PREFIX") Path prefix;
        @Option(names = "--passphrase-file", required = true, paramLabel = "FILE") Path passphraseFile;
        @Mixin Common.Debug debug;

        @Override
        public Integer call() throws Exception {
            Path priv = Path.of(prefix + ".private");
            Path pub = Path.of(prefix + ".pub");
            for (Path p : new Path[] {priv, pub}) {
                if (java.nio.file.Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    throw new UserInputException(p + " exists: refusing to overwrite a key");
                }
            }
            String[] pair = SigstoreKeys.generate(ImageSigning.passphrase(passphraseFile));
            ImageSigning.writePrivate(priv, pair[0]);
            io.hupd.fs.AtomicFiles.writeString(pub, pair[1]);
            System.out.println("key " + pub + ": " + SigstoreKeys.fingerprint(SigstoreKeys.readPublic(pair[1],
                    pub.toString())));
            return Main.OK;
        }
    }

    @Command(name = "sign", mixinStandardHelpOptions = true, description = "Sign an image in an OCI layout the way"
            + " skopeo and cosign do: a simple-signing payload attached under the tag sha256-DIGEST.sig.")
    static final class Sign implements Callable<Integer> {
        @Option(names = "--image", required = true, paramLabel = "oci:PATH:TAG",
                converter = OptionFormats.LayoutRef.class) String image;
        @Option(names = "--key", required = true, paramLabel = "FILE",
                description = "a sigstore private key (hupd image keygen, skopeo generate-sigstore-key)")
        Path key;
        @Option(names = "--passphrase-file", required = true, paramLabel = "FILE") Path passphraseFile;
        @Option(names = "--identity", paramLabel = "docker://HOST/REPO:TAG",
                description = "the registry name the image will be installed by (the default: hupd.local/hostos:TAG)")
        String identity;
        @Mixin Common.Debug debug;

        @Override
        public Integer call() throws Exception {
            ImageReference ref = ImageReference.parse(image);
            if (!ref.isOciLayout() || ref.tag() == null) {
                throw new UserInputException("--image must be an OCI layout with a tag (oci:PATH:TAG), not " + image);
            }
            String pem = ImageSigning.readKey(key);
            java.security.PrivateKey k = SigstoreKeys.readPrivate(pem, ImageSigning.passphrase(passphraseFile));
            String who = ImageSigning.identity(identity, ref.tag());
            String digest = ImageSigning.signLayout(ref, who, k);
            System.out.println("signed " + ref + " (" + digest + ") as " + who);
            return Main.OK;
        }
    }
}
