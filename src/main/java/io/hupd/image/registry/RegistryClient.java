package io.hupd.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * The OCI distribution API of one registry, read-only: manifests and blobs, anonymous or with a bearer token
 * (from the {@code WWW-Authenticate} challenge) or basic auth. Every request has time limits, is retried a
 * bounded number of times with backoff when a retry may help, and follows redirects itself so that a
 * credential is never sent to another host or over a downgraded connection.
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

    /**
     * The JDK client reads the socket into buffers of {@code jdk.httpclient.bufsize} bytes (16 KiB by default) and
     * hands each one through its own queue and, for a body stream, to the reading thread: for a 225 MB layer
     * that is ~14,000 hand-overs. 256 KiB cuts the CPU time of a loopback pull by a third (BENCHMARKS.md). The
     * JDK reads the property once, when its HTTP classes are first loaded, so it is set here, before this
     * class builds a client, unless the user set it.
     */
    static final String BUFSIZE_PROPERTY = "jdk.httpclient.bufsize";
    static final int BUFSIZE = 256 * 1024;

    static {
        if (System.getProperty(BUFSIZE_PROPERTY) == null) {
            System.setProperty(BUFSIZE_PROPERTY, Integer.toString(BUFSIZE));
        }
    }

    static final int MAX_TOKEN_BYTES = 1024 * 1024;
    private static final int MAX_ERROR_BYTES = 16 * 1024;
    private static final int MAX_REDIRECTS = 5;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern AUTH_PARAM = Pattern.compile("([A-Za-z][A-Za-z0-9_-]*)\\s*=\\s*(?:\"((?:[^\"\\\\]|\\\\.)*)\"|([^,\\s]*))");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes ([0-9]+)-([0-9]+)/([0-9]+|\\*)");

    private final String registry;
    private final URI base;
    private final RegistryOptions options;
    private final boolean plain;
    /** The CA bundle this registry's certificate must chain to, or null for the JDK's CAs. */
    private final java.nio.file.Path caBundle;
    /**
     * For the base URL's scheme; a plain-HTTP registry's client has no TLS at all (see {@link NoTls}). Made when
     * first needed and again after {@link #release}. Guarded by this.
     */
    private HttpClient http;
    /** For an https URL a plain-HTTP registry sends us to (a token realm, a redirect). Guarded by this. */
    private HttpClient tls;
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    private volatile boolean basicAuth;

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
        this.caBundle = tls.bundleFor(registry).orElse(null);
        boolean plain = caBundle == null && options.plainHttpAllowed(parsed.getHost(), parsed.getPort());
        this.base = URI.create((plain ? "http://" : "https://") + apiHost(registry));
        this.plain = plain;
    }

    /**
     * A client for one scheme. Without TLS it gets a context that refuses every use instead of the JDK's default
     * one, whose creation (security providers, the trust store's ~140 certificates) is 0.3-0.5 s of a fresh JVM,
     * paid for nothing by a plain-HTTP registry.
     */
    private HttpClient newClient(boolean withTls) {
        HttpClient.Builder b = HttpClient.newBuilder()
                .connectTimeout(options.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1);
        if (!withTls) {
            b.sslContext(NoTls.CONTEXT).sslParameters(new SSLParameters());
        } else if (caBundle != null) {
            b.sslContext(RegistryTls.context(caBundle));
        }
        return b.build();
    }

    private synchronized HttpClient clientFor(URI uri) {
        if (!plain || !"https".equalsIgnoreCase(uri.getScheme())) {
            if (http == null) {
                http = newClient(!plain);
            }
            return http;
        }
        if (tls == null) {
            tls = newClient(true);
        }
        return tls;
    }

    /**
     * Stops the HTTP clients' threads once the downloads are done; a later request starts new ones (tokens are
     * kept). Without it the JDK client's selector thread sits in {@code epoll_wait} until the process ends, and a
     * JDK 17 VM waits up to 300 ms at exit for threads in native code to come out (it polls every 10 ms): a
     * third of a second added to every command that fetched from a registry. JDK 17's client has no close():
     * its selector thread, named after the client's id, ends when interrupted; from JDK 21 on, close() does it.
     */
    public void release() {
        List<HttpClient> stopping = new ArrayList<>(2);
        synchronized (this) {
            if (http != null) {
                stopping.add(http);
            }
            if (tls != null) {
                stopping.add(tls);
            }
            http = null;
            tls = null;
        }
        for (HttpClient c : stopping) {
            stop(c);
        }
    }

    private static final Pattern CLIENT_ID = Pattern.compile("\\(([0-9]+)\\)$");

    private static void stop(HttpClient c) {
        if (((Object) c) instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                // its threads end on their own when it is collected
            }
            return;
        }
        // Not joined: it leaves epoll_wait within milliseconds, and nothing here waits for it.
        for (Thread t : selectorThreads(c)) {
            t.interrupt();
        }
    }

    /** The JDK 17 client's selector thread: "HttpClient-ID-SelectorManager", its id in the client's toString. */
    static List<Thread> selectorThreads(HttpClient c) {
        Matcher m = CLIENT_ID.matcher(c.toString());
        if (!m.find()) {
            return List.of();
        }
        String name = "HttpClient-" + m.group(1) + "-SelectorManager";
        ThreadGroup g = Thread.currentThread().getThreadGroup();
        while (g.getParent() != null) {
            g = g.getParent();
        }
        Thread[] all = new Thread[g.activeCount() + 16];
        int n = g.enumerate(all, true);
        List<Thread> found = new ArrayList<>(1);
        for (int i = 0; i < n; i++) {
            if (all[i].getName().equals(name)) {
                found.add(all[i]);
            }
        }
        return found;
    }

    /** The selector threads of the clients this one holds now (for tests). */
    synchronized List<Thread> selectorThreads() {
        List<Thread> out = new ArrayList<>();
        for (HttpClient c : new HttpClient[] {http, tls}) {
            if (c != null) {
                out.addAll(selectorThreads(c));
            }
        }
        return out;
    }

    /** The TLS context of a client that only speaks plain HTTP: any attempt to use it fails. */
    static final class NoTls extends SSLContextSpi {
        static final SSLContext CONTEXT = new SSLContext(new NoTls(), null, "none") {};

        private static IllegalStateException refused() {
            return new IllegalStateException("this client speaks plain HTTP only");
        }

        @Override
        protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom random) {
            throw refused();
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            throw refused();
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            throw refused();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            throw refused();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            throw refused();
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            throw refused();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            throw refused();
        }
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
        return retrying(what, () -> {
            HttpResponse<InputStream> r = exchange(what, uri, Map.of("Accept", String.join(", ", accept)),
                    scope(repository));
            try (InputStream in = guard(r.body(), what, options.documentTimeout().toMillis())) {
                byte[] body = readCapped(in, r, maxBytes, what);
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
        URI uri = base.resolve("/v2/" + repository + "/blobs/" + digest);
        String what = "blob " + digest + " from " + registry;
        Map<String, String> headers = offset > 0 ? Map.of("Range", "bytes=" + offset + "-") : Map.of();
        return retrying(what, () -> {
            HttpResponse<InputStream> r = exchange(what, uri, headers, scope(repository));
            long total = -1;
            long start = 0;
            if (r.statusCode() == 206) {
                String range = r.headers().firstValue("Content-Range").orElse("");
                Matcher m = CONTENT_RANGE.matcher(range.strip());
                if (!m.matches()) {
                    r.body().close();
                    throw new RegistryException(what + ": partial answer with a bad Content-Range '"
                            + printable(range) + "'", false);
                }
                start = Long.parseLong(m.group(1));
                total = m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3));
            }
            long limit = Math.max(options.documentTimeout().toMillis(),
                    remaining / options.minBytesPerSecond() * 1000);
            return new BlobBody(guard(r.body(), what, limit), start, total);
        });
    }

    /**
     * Opens {@code length} bytes of a blob from {@code offset} with a bounded Range request. A registry that
     * answers with the whole blob is read past the bytes before {@code offset} (they count as transferred).
     */
    public InputStream blobRange(String repository, String digest, long offset, long length) throws IOException {
        URI uri = base.resolve("/v2/" + repository + "/blobs/" + digest);
        String what = "blob " + digest + " from " + registry;
        Map<String, String> headers = Map.of("Range", "bytes=" + offset + "-" + (offset + length - 1));
        return retrying(what, () -> {
            HttpResponse<InputStream> r = exchange(what, uri, headers, scope(repository));
            long start = 0;
            if (r.statusCode() == 206) {
                Matcher m = CONTENT_RANGE.matcher(r.headers().firstValue("Content-Range").orElse("").strip());
                if (!m.matches() || Long.parseLong(m.group(1)) != offset) {
                    r.body().close();
                    throw new RegistryException(what + ": partial answer for another range", false);
                }
                start = offset;
            }
            long limit = Math.max(options.documentTimeout().toMillis(),
                    (offset - start + length) / options.minBytesPerSecond() * 1000);
            InputStream in = guard(r.body(), what, limit);
            in.skipNBytes(offset - start);
            return new io.hupd.fs.BoundedStream(in, length);
        });
    }

    private static String scope(String repository) {
        return "repository:" + repository + ":pull";
    }

    private InputStream guard(InputStream in, String what, long totalMillis) {
        return new GuardedInputStream(in, what, options.readIdleTimeout().toMillis(), options.lowSpeedBytes(),
                totalMillis);
    }

    @FunctionalInterface
    private interface Attempt<T> {
        T run() throws IOException, InterruptedException;
    }

    /** Runs an attempt up to maxAttempts times while it fails in a way that may pass; backoff doubles, jittered. */
    private <T> T retrying(String what, Attempt<T> attempt) throws IOException {
        long backoff = options.backoffBase().toMillis();
        for (int i = 1; ; i++) {
            try {
                return attempt.run();
            } catch (RegistryException e) {
                if (!e.retryable() || i >= options.maxAttempts()) {
                    throw i > 1 && e.retryable()
                            ? new RegistryException(e.getMessage() + " (after " + i + " tries)", false, e) : e;
                }
                long wait = retryAfter(e).orElse(backoff);
                sleep(Math.min(wait, options.backoffMax().toMillis()));
                backoff = Math.min(backoff * 2, options.backoffMax().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryException(what + ": interrupted", false, e);
            }
        }
    }

    private static Optional<Long> retryAfter(RegistryException e) {
        return e instanceof TooManyRequests t ? Optional.of(t.retryAfterMillis) : Optional.empty();
    }

    private static void sleep(long millis) throws RegistryException {
        try {
            Thread.sleep(millis + ThreadLocalRandom.current().nextLong(Math.max(1, millis / 4)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted while waiting to retry", false, e);
        }
    }

    private static final class TooManyRequests extends RegistryException {
        final long retryAfterMillis;

        TooManyRequests(String message, long retryAfterMillis) {
            super(message, true);
            this.retryAfterMillis = retryAfterMillis;
        }
    }

    /**
     * One logical request: answers a 401 challenge once, follows redirects (never carrying the credential to
     * another origin), and turns every error status into a one-line RegistryException. The caller owns the
     * returned body.
     */
    private HttpResponse<InputStream> exchange(String what, URI uri, Map<String, String> headers, String scope)
            throws IOException, InterruptedException {
        URI target = uri;
        boolean sameOrigin = true;
        boolean challenged = false;
        for (int redirects = 0; ; ) {
            HttpRequest.Builder b = HttpRequest.newBuilder(target).GET().timeout(options.responseTimeout())
                    .header("User-Agent", "hupd");
            headers.forEach(b::header);
            if (sameOrigin) {
                authorization(scope).ifPresent(v -> b.header("Authorization", v));
            }
            HttpResponse<InputStream> r = send(b.build(), what);
            int status = r.statusCode();
            if (status == 401 && sameOrigin && !challenged) {
                String challenge = r.headers().firstValue("WWW-Authenticate").orElse(null);
                r.body().close();
                challenged = true;
                authenticate(challenge, scope, what);
                continue;
            }
            if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
                String location = r.headers().firstValue("Location").orElse(null);
                r.body().close();
                if (location == null || ++redirects > MAX_REDIRECTS) {
                    throw new RegistryException(what + ": " + (location == null ? "redirect without a Location"
                            : "more than " + MAX_REDIRECTS + " redirects"), false);
                }
                URI next = resolveRedirect(target, location, what);
                sameOrigin = sameOrigin && origin(next).equals(origin(base));
                target = next;
                continue;
            }
            if (status >= 200 && status < 300) {
                return r;
            }
            throw statusError(what, r, challenged);
        }
    }

    private URI resolveRedirect(URI from, String location, String what) throws RegistryException {
        URI next;
        try {
            next = from.resolve(new URI(location.strip()));
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new RegistryException(what + ": redirect to a bad location '" + printable(location) + "'", false);
        }
        String scheme = next.getScheme() == null ? "" : next.getScheme().toLowerCase(Locale.ROOT);
        if (next.getHost() == null || !(scheme.equals("https")
                || (scheme.equals("http") && options.plainHttpAllowed(next.getHost(), next.getPort())))) {
            throw new RegistryException(what + ": refusing a redirect to " + printable(scheme + "://" + next.getHost())
                    + " (only https, or http to loopback and --insecure-registry hosts)", false);
        }
        return next;
    }

    private static String origin(URI u) {
        int port = u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
        return (u.getScheme() + "://" + u.getHost() + ":" + port).toLowerCase(Locale.ROOT);
    }

    private HttpResponse<InputStream> send(HttpRequest request, String what)
            throws IOException, InterruptedException {
        try {
            return clientFor(request.uri()).send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpConnectTimeoutException e) {
            throw new RegistryException(what + ": connecting to " + request.uri().getAuthority() + " timed out after "
                    + options.connectTimeout().toMillis() + " ms", true, e);
        } catch (HttpTimeoutException e) {
            throw new RegistryException(what + ": no answer within " + options.responseTimeout().toMillis()
                    + " ms", true, e);
        } catch (ConnectException e) {
            throw new RegistryException(what + ": cannot connect to " + request.uri().getAuthority()
                    + " (connection refused: is the registry running?)", true, e);
        } catch (SSLException e) {
            String why = RegistryTls.explain(e);
            if (why != null) {
                throw new RegistryException(what + ": refusing " + request.uri().getAuthority() + ": " + why
                        + (caBundle != null ? " (CA bundle " + caBundle + ")" : ""), false, e);
            }
            throw new RegistryException(what + ": TLS with " + request.uri().getAuthority() + " failed: "
                    + firstLine(e.getMessage()) + (base.getScheme().equals("https") && caBundle == null
                            ? " (a plain-HTTP registry needs --insecure-registry " + registry + ")" : ""), false, e);
        } catch (IOException e) {
            throw new RegistryException(what + ": " + describe(e), true, e);
        }
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : firstLine(m);
    }

    private RegistryException statusError(String what, HttpResponse<InputStream> r, boolean challenged) {
        int status = r.statusCode();
        String detail = errorDetail(r);
        String msg;
        boolean retryable = status >= 500 || status == 429 || status == 408;
        if (status == 401) {
            msg = what + ": " + (options.credentials().forRegistry(registry).isPresent()
                    ? "the registry refused the login for " + registry + " (check --registry-credentials)"
                    : "the registry needs a login: give --registry-credentials FILE with an entry for " + registry);
        } else if (status == 403) {
            msg = what + ": access denied (403)" + detail;
        } else if (status == 404) {
            msg = what + ": not found (404)" + detail;
        } else {
            msg = what + ": the registry answered " + status + detail;
        }
        if (status == 429) {
            long after = r.headers().firstValue("Retry-After").filter(v -> v.matches("[0-9]{1,6}"))
                    .map(v -> Long.parseLong(v) * 1000).orElse(options.backoffBase().toMillis());
            return new TooManyRequests(msg, after);
        }
        return status == 404 ? new NotFound(msg) : new RegistryException(msg, retryable);
    }

    /** A 404: for a signature tag, the normal answer about an unsigned image. */
    public static final class NotFound extends RegistryException {
        NotFound(String message) {
            super(message, false);
        }
    }

    /** The registry's own error codes ({"errors":[{"code":..,"message":..}]}), when it sent them. */
    private String errorDetail(HttpResponse<InputStream> r) {
        byte[] body;
        try (InputStream in = guard(r.body(), "error body", options.documentTimeout().toMillis())) {
            body = in.readNBytes(MAX_ERROR_BYTES);
        } catch (IOException e) {
            return "";
        }
        try {
            JsonNode errors = JSON.readTree(body).get("errors");
            if (errors != null && errors.isArray() && !errors.isEmpty()) {
                JsonNode first = errors.get(0);
                String code = first.path("code").asText("");
                String message = first.path("message").asText("");
                String d = (code + (message.isEmpty() ? "" : " " + message)).strip();
                return d.isEmpty() ? "" : ": " + printable(d);
            }
        } catch (IOException | RuntimeException e) {
            // not the registry's JSON: the status says enough
        }
        return "";
    }

    private Optional<String> authorization(String scope) {
        String token = tokens.get(scope);
        if (token != null) {
            return Optional.of("Bearer " + token);
        }
        if (basicAuth) {
            return options.credentials().forRegistry(registry).map(RegistryCredentials.Login::basicHeader);
        }
        return Optional.empty();
    }

    /** Answers a 401 challenge: fetches a bearer token from the realm, or switches to basic auth. */
    private void authenticate(String challenge, String scope, String what) throws IOException, InterruptedException {
        Optional<RegistryCredentials.Login> login = options.credentials().forRegistry(registry);
        if (challenge == null) {
            throw new RegistryException(what + ": the registry answered 401 without a WWW-Authenticate challenge",
                    false);
        }
        String c = challenge.strip();
        String scheme = c.split("\\s+", 2)[0].toLowerCase(Locale.ROOT);
        Map<String, String> params = authParams(c.substring(Math.min(c.length(), scheme.length())));
        if (scheme.equals("basic")) {
            if (login.isEmpty()) {
                throw new RegistryException(what + ": the registry needs a login: give --registry-credentials FILE"
                        + " with an entry for " + registry, false);
            }
            if (!base.getScheme().equals("https") && !RegistryOptions.isLoopback(base.getHost())) {
                throw new RegistryException(what + ": refusing to send a password to " + registry
                        + " over plain HTTP", false);
            }
            basicAuth = true;
            return;
        }
        if (!scheme.equals("bearer")) {
            throw new RegistryException(what + ": unsupported auth scheme '" + printable(scheme) + "'", false);
        }
        String realm = params.get("realm");
        if (realm == null || realm.isBlank()) {
            throw new RegistryException(what + ": the bearer challenge names no realm", false);
        }
        URI realmUri;
        try {
            realmUri = new URI(realm);
        } catch (URISyntaxException e) {
            throw new RegistryException(what + ": the token realm '" + printable(realm) + "' is not a URL", false);
        }
        String realmScheme = realmUri.getScheme() == null ? "" : realmUri.getScheme().toLowerCase(Locale.ROOT);
        if (realmUri.getHost() == null || !(realmScheme.equals("https") || (realmScheme.equals("http")
                && options.plainHttpAllowed(realmUri.getHost(), realmUri.getPort())))) {
            throw new RegistryException(what + ": refusing the token realm " + printable(realm)
                    + " (only https, or http to loopback and --insecure-registry hosts)", false);
        }
        StringBuilder q = new StringBuilder(realmUri.getRawQuery() == null ? "" : realmUri.getRawQuery());
        if (params.containsKey("service")) {
            q.append(q.length() > 0 ? "&" : "").append("service=").append(enc(params.get("service")));
        }
        q.append(q.length() > 0 ? "&" : "").append("scope=").append(enc(scope));
        URI tokenUri = URI.create(realmUri.getScheme() + "://" + realmUri.getRawAuthority()
                + (realmUri.getRawPath() == null || realmUri.getRawPath().isEmpty() ? "/" : realmUri.getRawPath())
                + "?" + q);
        HttpRequest.Builder b = HttpRequest.newBuilder(tokenUri).GET().timeout(options.responseTimeout())
                .header("User-Agent", "hupd");
        login.ifPresent(l -> b.header("Authorization", l.basicHeader()));
        String tokenWhat = "token for " + registry + " from " + realmUri.getAuthority();
        HttpResponse<InputStream> r = send(b.build(), tokenWhat);
        if (r.statusCode() / 100 != 2) {
            throw statusError(tokenWhat, r, true);
        }
        byte[] body;
        try (InputStream in = guard(r.body(), tokenWhat, options.documentTimeout().toMillis())) {
            body = readCapped(in, r, MAX_TOKEN_BYTES, tokenWhat);
        }
        String token;
        try {
            JsonNode json = JSON.readTree(body);
            JsonNode t = json == null ? null : json.has("token") ? json.get("token") : json.get("access_token");
            token = t != null && t.isTextual() ? t.textValue() : null;
        } catch (IOException e) {
            token = null;
        }
        if (token == null || token.isEmpty() || !token.matches("[\\x21-\\x7e]+")) {
            throw new RegistryException(tokenWhat + ": the answer has no usable token", false);
        }
        tokens.put(scope, token);
    }

    static Map<String, String> authParams(String s) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = AUTH_PARAM.matcher(s);
        while (m.find()) {
            String v = m.group(2) != null ? m.group(2).replaceAll("\\\\(.)", "$1") : m.group(3);
            out.putIfAbsent(m.group(1).toLowerCase(Locale.ROOT), v);
        }
        return out;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static byte[] readCapped(InputStream in, HttpResponse<?> r, int max, String what) throws IOException {
        long declared = r.headers().firstValueAsLong("Content-Length").orElse(-1);
        if (declared > max) {
            throw new RegistryException(what + " is " + declared + " bytes, more than the " + max + " allowed",
                    false);
        }
        byte[] body = in.readNBytes(max + 1);
        if (body.length > max) {
            throw new RegistryException(what + " is larger than the " + max + " bytes allowed", false);
        }
        if (declared >= 0 && body.length != declared) {
            throw new RegistryException(what + ": got " + body.length + " bytes, Content-Length said " + declared,
                    true);
        }
        return body;
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return printable(nl < 0 ? s : s.substring(0, nl));
    }

    /** Registry-supplied text in a message: control characters dropped, length capped. */
    static String printable(String s) {
        String clean = Objects.requireNonNullElse(s, "").replaceAll("[\\p{Cntrl}]", "?");
        return clean.length() > 200 ? clean.substring(0, 200) + "..." : clean;
    }
}
