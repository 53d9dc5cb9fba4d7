package io.hupd.image.registry;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * How hupd talks to registries: which may be spoken to over plain HTTP, whose credentials to send, which
 * architecture to pick from an image index, and the limits that keep a slow or hostile registry from holding
 * an update forever.
 *
 * @param insecureRegistries {@code HOST} or {@code HOST:PORT} entries spoken to over plain HTTP (loopback
 *     always is)
 * @param architecture the device's architecture, used to pick one image from an index; null refuses an index
 *     with several linux images as ambiguous
 * @param responseTimeout from sending a request to its response headers
 * @param readIdleTimeout the low-speed window: a response body that sends fewer than {@code lowSpeedBytes} in
 *     any window this long is cut as stalled (curl's --speed-time), a body that drips a byte now and then too
 * @param documentTimeout the whole of a small request (manifest, token, config)
 * @param minBytesPerSecond a blob download slower than this on average is cut (slow-retrieval attacks), with
 *     {@code documentTimeout} as the floor of its time limit
 * @param maxAttempts tries of one request that keeps failing in a way that may pass (refused connection,
 *     5xx, 429, a cut without progress)
 * @param lowSpeedBytes the low-speed limit (curl's --speed-limit): the bytes a body must send in every
 *     {@code readIdleTimeout}; a cut that got fewer counts as a try without progress
 */
public record RegistryOptions(Set<String> insecureRegistries, RegistryCredentials credentials, String architecture,
        Duration connectTimeout, Duration responseTimeout, Duration readIdleTimeout, Duration documentTimeout,
        long minBytesPerSecond, int maxAttempts, Duration backoffBase, Duration backoffMax, long lowSpeedBytes) {
    public static final RegistryOptions DEFAULT = new RegistryOptions(Set.of(), RegistryCredentials.NONE, null,
            Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(20), Duration.ofSeconds(60),
            16 * 1024, 4, Duration.ofMillis(250), Duration.ofSeconds(8), 1024);

    public RegistryOptions {
        insecureRegistries = Set.copyOf(insecureRegistries.stream().map(s -> s.toLowerCase(Locale.ROOT)).toList());
        Objects.requireNonNull(credentials, "credentials");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(responseTimeout, "responseTimeout");
        Objects.requireNonNull(readIdleTimeout, "readIdleTimeout");
        Objects.requireNonNull(documentTimeout, "documentTimeout");
        Objects.requireNonNull(backoffBase, "backoffBase");
        Objects.requireNonNull(backoffMax, "backoffMax");
        if (maxAttempts < 1 || minBytesPerSecond < 1 || lowSpeedBytes < 1) {
            throw new IllegalArgumentException("maxAttempts, minBytesPerSecond and lowSpeedBytes must be positive");
        }
    }

    public RegistryOptions withInsecure(Set<String> registries) {
        return new RegistryOptions(registries, credentials, architecture, connectTimeout, responseTimeout,
                readIdleTimeout, documentTimeout, minBytesPerSecond, maxAttempts, backoffBase, backoffMax,
                lowSpeedBytes);
    }

    public RegistryOptions withCredentials(RegistryCredentials c) {
        return new RegistryOptions(insecureRegistries, c, architecture, connectTimeout, responseTimeout,
                readIdleTimeout, documentTimeout, minBytesPerSecond, maxAttempts, backoffBase, backoffMax,
                lowSpeedBytes);
    }

    public RegistryOptions withArchitecture(String arch) {
        return new RegistryOptions(insecureRegistries, credentials, arch, connectTimeout, responseTimeout,
                readIdleTimeout, documentTimeout, minBytesPerSecond, maxAttempts, backoffBase, backoffMax,
                lowSpeedBytes);
    }

    public RegistryOptions withTimeouts(Duration connect, Duration response, Duration readIdle, Duration document) {
        return new RegistryOptions(insecureRegistries, credentials, architecture, connect, response, readIdle,
                document, minBytesPerSecond, maxAttempts, backoffBase, backoffMax,
                lowSpeedBytes);
    }

    public RegistryOptions withRetries(int attempts, Duration base, Duration max) {
        return new RegistryOptions(insecureRegistries, credentials, architecture, connectTimeout, responseTimeout,
                readIdleTimeout, documentTimeout, minBytesPerSecond, attempts, base, max,
                lowSpeedBytes);
    }

    public RegistryOptions withMinBytesPerSecond(long rate) {
        return new RegistryOptions(insecureRegistries, credentials, architecture, connectTimeout, responseTimeout,
                readIdleTimeout, documentTimeout, rate, maxAttempts, backoffBase, backoffMax,
                lowSpeedBytes);
    }

    /** The low-speed limit: fewer than {@code bytes} in any {@code window} is a stall. */
    public RegistryOptions withLowSpeedLimit(long bytes, Duration window) {
        return new RegistryOptions(insecureRegistries, credentials, architecture, connectTimeout, responseTimeout,
                window, documentTimeout, minBytesPerSecond, maxAttempts, backoffBase, backoffMax, bytes);
    }

    /**
     * Plain HTTP is only for a registry on this machine or one the operator named: anywhere else it would let
     * the network rewrite the image and read the credentials.
     */
    public boolean plainHttpAllowed(String host, int port) {
        String h = host.toLowerCase(Locale.ROOT);
        if (isLoopback(h)) {
            return true;
        }
        return insecureRegistries.contains(h) || (port > 0 && insecureRegistries.contains(h + ":" + port));
    }

    /** By name only: a DNS answer must not be able to turn TLS off. */
    static boolean isLoopback(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return h.equals("localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1")
                || h.matches("127\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}");
    }
}
