package io.hupd.image.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Blob downloads, whole or from an offset, with the time a body may take set by its size: a layer of gigabytes
 * needs longer than a manifest, but not forever (at least {@link RegistryOptions#minBytesPerSecond}). A registry
 * may ignore a Range request and send the whole blob, so what comes back is read from its Content-Range.
 */
final class BlobFetch {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes ([0-9]+)-([0-9]+)/([0-9]+|\\*)");

    private final String registry;
    private final URI base;
    private final RegistryOptions options;
    private final RegistryTransport transport;
    private final RegistryExchange exchange;
    private final Retries retries;

    BlobFetch(String registry, URI base, RegistryOptions options, RegistryTransport transport,
            RegistryExchange exchange, Retries retries) {
        this.registry = registry;
        this.base = base;
        this.options = options;
        this.transport = transport;
        this.exchange = exchange;
        this.retries = retries;
    }

    /** As {@link RegistryClient#blob}. */
    RegistryClient.BlobBody blob(String repository, String digest, long offset, long remaining) throws IOException {
        URI uri = base.resolve("/v2/" + repository + "/blobs/" + digest);
        String what = "blob " + digest + " from " + registry;
        Map<String, String> headers = offset > 0 ? Map.of("Range", "bytes=" + offset + "-") : Map.of();
        return retries.retrying(what, () -> {
            HttpResponse<InputStream> r = exchange.exchange(what, uri, headers, RegistryAuth.pullScope(repository));
            long total = -1;
            long start = 0;
            if (r.statusCode() == 206) {
                String range = r.headers().firstValue("Content-Range").orElse("");
                Matcher m = CONTENT_RANGE.matcher(range.strip());
                if (!m.matches()) {
                    r.body().close();
                    throw new RegistryException(what + ": partial answer with a bad Content-Range '"
                            + RegistryText.printable(range) + "'", false);
                }
                start = Long.parseLong(m.group(1));
                total = m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3));
            }
            long limit = Math.max(options.documentTimeout().toMillis(),
                    remaining / options.minBytesPerSecond() * 1000);
            return new RegistryClient.BlobBody(transport.guard(r.body(), what, limit), start, total);
        });
    }

    /** As {@link RegistryClient#blobRange}. */
    InputStream blobRange(String repository, String digest, long offset, long length) throws IOException {
        URI uri = base.resolve("/v2/" + repository + "/blobs/" + digest);
        String what = "blob " + digest + " from " + registry;
        Map<String, String> headers = Map.of("Range", "bytes=" + offset + "-" + (offset + length - 1));
        return retries.retrying(what, () -> {
            HttpResponse<InputStream> r = exchange.exchange(what, uri, headers, RegistryAuth.pullScope(repository));
            long start = 0;
            if (r.statusCode() == 206) {
                Matcher m = CONTENT_RANGE.matcher(r.headers().firstValue("Content-Range").orElse("").strip());
                if (!m.matches() || Long.parseLong(m.group(1)) != offset) {
                    r.body().close();
                    throw new RegistryException(what + ": partial answer for another range", false);
                }
                start = offset;
            }
            // the bytes before the offset of a whole-blob answer are transferred too, so they count in the time
            long limit = Math.max(options.documentTimeout().toMillis(),
                    (offset - start + length) / options.minBytesPerSecond() * 1000);
            InputStream in = transport.guard(r.body(), what, limit);
            in.skipNBytes(offset - start);
            return new io.hupd.fs.BoundedStream(in, length);
        });
    }
}
