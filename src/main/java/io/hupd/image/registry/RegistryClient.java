package io.hupd.image.registry;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

/**
 * The OCI distribution API of one registry, read-only: manifests and blobs, anonymous or with a bearer token
 * (from the {@code WWW-Authenticate} challenge) or basic auth. Every request has time limits, is retried a
 * bounded number of times with backoff when a retry may help, and follows redirects itself so that a
 * credential is never sent to another host or over a downgraded connection.
 *
 * <p>The work is shared out: {@link RegistryTransport} speaks HTTP within its limits, {@link RegistryExchange}
 * makes one logical request of it (the login, the redirects), {@link RegistryAuth} logs in, {@link StatusErrors}
 * words the refusals, {@link Retries} tries again, and {@link BlobFetch} downloads blobs.
 */
public final class RegistryClient {
    /** A small response, read completely. */
    public record Document(byte[] body, String contentType, String dockerContentDigest) {}

    /**
     * An open blob body. {@code start} is where it begins in the blob (0 for a 200, the Content-Range start for a
     * 206); {@code total} the blob size the registry claims, -1 when it does not say.
     */
    public record BlobBody(InputStream in, long start, long total) implements Closeable {
        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** A 404: for a signature tag, the normal answer about an unsigned image. */
    public static final class NotFound extends RegistryException {
        NotFound(String message) {
            super(message, false);
        }
    }

    private final String registry;
    private final URI base;
    private final RegistryOptions options;
    private final RegistryTransport transport;
    private final RegistryExchange exchange;
    private final Retries retries;
    private final BlobFetch blobs;

    /**
     * @param registry {@code HOST[:PORT]} as the image reference names it
     * @throws RegistryException when the host may not be spoken to at all
     */
    public RegistryClient(String registry, RegistryOptions options) {
        this(registry, options, RegistryTls.NONE);
    }

    /** @param tls a registry it has a CA bundle for is reached over TLS, checked against that bundle only */
    public RegistryClient(String registry, RegistryOptions options, RegistryTls tls) {
        this.registry = registry;
        this.options = options;
        URI parsed = URI.create("//" + apiHost(registry));
        java.nio.file.Path caBundle = tls.bundleFor(registry).orElse(null);
        boolean plain = caBundle == null && options.plainHttpAllowed(parsed.getHost(), parsed.getPort());
        this.base = URI.create((plain ? "http://" : "https://") + apiHost(registry));
        // made now, so that its JDK settings are in place before any request (see RegistryTransport.BUFSIZE)
        this.transport = new RegistryTransport(registry, base, options, plain, caBundle);
        StatusErrors errors = new StatusErrors(registry, options, transport);
        RegistryAuth auth = new RegistryAuth(registry, base, options, transport, errors);
        this.exchange = new RegistryExchange(base, options, transport, auth, errors);
        this.retries = new Retries(options);
        this.blobs = new BlobFetch(registry, base, options, transport, exchange, retries);
    }

    /**
     * Stops the HTTP clients' threads once the downloads are done; a later request starts new ones (tokens are
     * kept). See {@link HttpClientShutdown} for what they would cost left running.
     */
    public void release() {
        transport.release();
    }

    /** The selector threads of the clients this one holds now (for tests). */
    List<Thread> selectorThreads() {
        return transport.selectorThreads();
    }

    /** Docker Hub's API lives under another name than the one people write. */
    private static String apiHost(String registry) {
        return registry.equalsIgnoreCase("docker.io") ? "registry-1.docker.io" : registry;
    }

    public String registry() {
        return registry;
    }

    /** The base URL requests go to; {@code http://} only for loopback and {@code --insecure-registry} hosts. */
    public URI baseUri() {
        return base;
    }

    /** GETs a manifest (by tag or digest), at most {@code maxBytes}. */
    public Document manifest(String repository, String reference, List<String> accept, int maxBytes)
            throws IOException {
        URI uri = base.resolve("/v2/" + repository + "/manifests/" + reference);
        String what = "manifest " + repository + ":" + reference + " on " + registry;
        return retries.retrying(what, () -> {
            HttpResponse<InputStream> r = exchange.exchange(what, uri, Map.of("Accept", String.join(", ", accept)),
                    RegistryAuth.pullScope(repository));
            try (InputStream in = transport.guard(r.body(), what, options.documentTimeout().toMillis())) {
                byte[] body = RegistryTransport.readCapped(in, r, maxBytes, what);
                return new Document(body, r.headers().firstValue("Content-Type").orElse(null),
                        r.headers().firstValue("Docker-Content-Digest").orElse(null));
            }
        });
    }

    /**
     * Opens a blob from {@code offset} (a Range request when above 0). The caller checks what it gets: a
     * registry may answer a Range request with the whole blob.
     *
     * @param remaining the bytes still expected, which sets the whole download's time limit
     */
    public BlobBody blob(String repository, String digest, long offset, long remaining) throws IOException {
        return blobs.blob(repository, digest, offset, remaining);
    }

    /**
     * Opens {@code length} bytes of a blob from {@code offset} with a bounded Range request. A registry that
     * answers with the whole blob is read past the bytes before {@code offset} (they count as transferred).
     */
    public InputStream blobRange(String repository, String digest, long offset, long length) throws IOException {
        return blobs.blobRange(repository, digest, offset, length);
    }
}
