package io.hupd.image.registry;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * What the operator told {@code hupd update} about registries: the part of {@link RegistryOptions} that comes
 * from its command line. An update records it (docs/registry.md, "Resuming"), so a run resumed at a power-on,
 * or by {@code hupd update} given fewer options, fetches the way the update began. The credentials file is kept
 * by its path, never its contents: the logins stay where the operator put them.
 *
 * @param insecureRegistries lower case, sorted, without repeats, so equal settings compare equal
 * @param credentialsFile an absolute path (a resumed run may have another working folder), or null
 * @param lowSpeedBytes {@code --registry-speed-limit}: a download sending fewer bytes than this in
 *     {@code lowSpeedSeconds} is stalled; null for the default
 * @param lowSpeedSeconds {@code --registry-speed-time}, or null for the default
 */
public record RegistrySettings(List<String> insecureRegistries, String credentialsFile, Long lowSpeedBytes,
        Integer lowSpeedSeconds) {
    public static final RegistrySettings NONE = new RegistrySettings(List.of(), null);

    public RegistrySettings(List<String> insecureRegistries, String credentialsFile) {
        this(insecureRegistries, credentialsFile, null, null);
    }

    public RegistrySettings {
        if ((lowSpeedBytes != null && lowSpeedBytes < 1) || (lowSpeedSeconds != null && lowSpeedSeconds < 1)) {
            throw new io.hupd.ports.UserInputException("--registry-speed-limit and --registry-speed-time must be"
                    + " positive");
        }
        insecureRegistries = insecureRegistries.stream().map(s -> s.toLowerCase(Locale.ROOT)).distinct().sorted()
                .toList();
        if (credentialsFile != null && !Path.of(credentialsFile).isAbsolute()) {
            throw new IllegalArgumentException("the credentials file must be an absolute path: " + credentialsFile);
        }
    }

    public static RegistrySettings of(Collection<String> insecureRegistries, Path credentialsFile) {
        return of(insecureRegistries, credentialsFile, null, null);
    }

    public static RegistrySettings of(Collection<String> insecureRegistries, Path credentialsFile, Long lowSpeedBytes,
            Integer lowSpeedSeconds) {
        return new RegistrySettings(List.copyOf(insecureRegistries),
                credentialsFile == null ? null : credentialsFile.toAbsolutePath().normalize().toString(),
                lowSpeedBytes, lowSpeedSeconds);
    }

    /**
     * {@code base} with these settings in place of its own.
     *
     * @throws io.hupd.ports.UserInputException when the credentials file is missing or malformed
     */
    public RegistryOptions applyTo(RegistryOptions base) {
        RegistryOptions o = base.withInsecure(java.util.Set.copyOf(insecureRegistries)).withCredentials(
                credentialsFile == null ? RegistryCredentials.NONE : RegistryCredentials.load(Path.of(credentialsFile)));
        if (lowSpeedBytes != null || lowSpeedSeconds != null) {
            o = o.withLowSpeedLimit(lowSpeedBytes != null ? lowSpeedBytes : o.lowSpeedBytes(), lowSpeedSeconds != null
                    ? java.time.Duration.ofSeconds(lowSpeedSeconds) : o.readIdleTimeout());
        }
        return o;
    }

    /** For the log: the file by its path (never its logins) and the plain-HTTP registries. */
    @Override
    public String toString() {
        return (insecureRegistries.isEmpty() ? "no --insecure-registry" : "--insecure-registry "
                + String.join(" ", insecureRegistries)) + ", " + (credentialsFile == null
                ? "no --registry-credentials" : "--registry-credentials " + credentialsFile)
                + (lowSpeedBytes == null ? "" : ", --registry-speed-limit " + lowSpeedBytes)
                + (lowSpeedSeconds == null ? "" : ", --registry-speed-time " + lowSpeedSeconds);
    }
}
