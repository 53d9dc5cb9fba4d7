package io.hupd.cli;

import io.hupd.adapters.bootloader.Bootloaders;
import io.hupd.adapters.sim.DeviceConfig;
import io.hupd.image.oci.ImageReference;
import io.hupd.ports.UserInputException;
import io.hupd.steps.OsVersion;
import java.util.List;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The options that have a format, checked while picocli parses the command line: a malformed one is a bad
 * command line (exit 2, one line naming the option, nothing done) rather than a failure of the command. Each
 * check is the parser the command uses later, so the two can never disagree; the converters that take text give
 * it back unchanged.
 */
final class OptionFormats {
    private OptionFormats() {}

    /** Runs {@code check}; its refusal becomes picocli's, which names the option. */
    private static void checked(Runnable check) {
        try {
            check.run();
        } catch (UserInputException | IllegalArgumentException e) {
            throw new TypeConversionException(Main.oneLine(e.getMessage()));
        }
    }

    private static int integer(String s, String form) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + Main.printable(s) + "' is not " + form);
        }
    }

    private static long whole(String s, String form) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + Main.printable(s) + "' is not " + form);
        }
    }

    /** An OS or supervisor version, MAJOR.MINOR.PATCH. */
    static final class Version implements ITypeConverter<String> {
        @Override
        public String convert(String v) {
            checked(() -> OsVersion.parse(v));
            return v;
        }
    }

    /** An image reference: oci:PATH[:TAG] or docker://HOST[:PORT]/REPO[:TAG|@DIGEST]. */
    static final class ImageRef implements ITypeConverter<String> {
        @Override
        public String convert(String v) {
            checked(() -> ImageReference.parse(v));
            return v;
        }
    }

    /** An image reference that must name an OCI layout on this machine. */
    static final class LayoutRef implements ITypeConverter<String> {
        @Override
        public String convert(String v) {
            checked(() -> {
                if (!ImageReference.parse(v).isOciLayout()) {
                    throw new UserInputException("'" + Main.printable(v) + "' is not an OCI layout (oci:PATH[:TAG])");
                }
            });
            return v;
        }
    }

    /** A size like 256M. */
    static final class Size implements ITypeConverter<String> {
        @Override
        public String convert(String v) {
            checked(() -> DeviceConfig.size(v));
            return v;
        }
    }

    /** A duration like 500ms, 60s or 2m. */
    static final class DurationText implements ITypeConverter<String> {
        @Override
        public String convert(String v) {
            checked(() -> DeviceConfig.duration(v));
            return v;
        }
    }

    /** A TCP port to listen on; 0 lets the system pick. */
    static final class Port implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String v) {
            int port = integer(v, "a port number");
            if (port < 0 || port > 65535) {
                throw new TypeConversionException(port + " is not a port: give 1 to 65535, or 0 for any free one");
            }
            return port;
        }
    }

    /** A count of at least one. */
    static final class PositiveInt implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String v) {
            int n = integer(v, "a whole number");
            if (n < 1) {
                throw new TypeConversionException(n + " is not positive: give 1 or more");
            }
            return n;
        }
    }

    /** A number of bytes of at least one. */
    static final class PositiveLong implements ITypeConverter<Long> {
        @Override
        public Long convert(String v) {
            long n = whole(v, "a whole number");
            if (n < 1) {
                throw new TypeConversionException(n + " is not positive: give 1 or more");
            }
            return n;
        }
    }

    /** A number that may be zero. */
    static final class NonNegativeLong implements ITypeConverter<Long> {
        @Override
        public Long convert(String v) {
            long n = whole(v, "a whole number");
            if (n < 0) {
                throw new TypeConversionException(n + " is negative: give 0 or more");
            }
            return n;
        }
    }

    /** U-Boot's os_bc_lim: how many failed boots before the fallback. */
    static final class BootLimit implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String v) {
            int n = integer(v, "a number of boots");
            if (n < 1 || n > 100) {
                throw new TypeConversionException(n + " is out of range: give 1 to 100");
            }
            return n;
        }
    }

    /** One of the simulated bootloader flavours. */
    static final class Bootloader implements ITypeConverter<String> {
        @Override
        public String convert(String v) {
            return oneOf(v, Bootloaders.flavours(), "bootloader");
        }
    }

    static final class Vpn implements ITypeConverter<String> {
        @Override
        public String convert(String v) {
            return oneOf(v, List.of("online", "offline"), "VPN state");
        }
    }

    static final class ImageFormat implements ITypeConverter<String> {
        @Override
        public String convert(String v) {
            return oneOf(v, List.of("tar", "ext4"), "image format");
        }
    }

    private static String oneOf(String v, List<String> known, String what) {
        if (!known.contains(v)) {
            throw new TypeConversionException("unknown " + what + " '" + Main.printable(v) + "' (known: "
                    + String.join(", ", known) + ")");
        }
        return v;
    }

    /** A file name; whether the file is there is the command's to say (exit 1), its spelling is checked here. */
    static final class FileName implements ITypeConverter<java.nio.file.Path> {
        @Override
        public java.nio.file.Path convert(String v) {
            if (v.isBlank()) {
                throw new TypeConversionException("a file name is empty");
            }
            try {
                return java.nio.file.Path.of(v);
            } catch (java.nio.file.InvalidPathException e) {
                throw new TypeConversionException("'" + Main.printable(v) + "' is not a file name");
            }
        }
    }

    /** HOST or HOST:PORT of a registry, as it appears in an image reference; [IPv6] in brackets. */
    static final class RegistryHost implements ITypeConverter<String> {
        private static final Pattern FORM = Pattern.compile(
                "(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*|\\[[0-9A-Fa-f:.]+\\])"
                        + "(?::\\d{1,5})?");

        @Override
        public String convert(String v) {
            if (!FORM.matcher(v).matches()) {
                throw new TypeConversionException("'" + Main.printable(v) + "' is not HOST or HOST:PORT (no scheme,"
                        + " no path), e.g. registry.local:5000");
            }
            return v;
        }
    }
}
