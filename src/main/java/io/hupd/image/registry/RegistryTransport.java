package io.hupd.image.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * The HTTP under a registry client, with its limits: time to connect, to the headers and for each body, the size
 * of what is read whole, and every transport failure worded as a {@link RegistryException} that says whether a
 * retry may help. Redirects are never followed here (see {@link RegistryExchange}).
 */
final class RegistryTransport {
    /**
     * The JDK client reads the socket into buffers of {@code jdk.httpclient.bufsize} bytes (16 KiB by default) and
     * hands each one through its own queue and, for a body stream, to the reading thread: for a 225 MB layer
     * that is ~14,000 hand-overs. 256 KiB cuts the CPU time of a loopback pull by a third (BENCHMARKS.md). The
     * JDK reads the property once, when its HTTP classes are first loaded, so it is set here, before this
     * class builds a client (a registry client makes its transport when it is made), unless the user set it.
     */
    static final String BUFSIZE_PROPERTY = "jdk.httpclient.bufsize";
    static final int BUFSIZE = 256 * 1024;

    static {
        if (System.getProperty(BUFSIZE_PROPERTY) == null) {
            System.setProperty(BUFSIZE_PROPERTY, Integer.toString(BUFSIZE));
        }
    }

    private final String registry;
    private final URI base;
    private final RegistryOptions options;
    private final boolean plain;
    /** The CA bundle this registry's certificate must chain to, or null for the JDK's CAs. */
    private final Path caBundle;
    /**
     * For the base URL's scheme; a plain-HTTP registry's client has no TLS at all (see {@link NoTls}). Made when
     * first needed and again after {@link #release}. Guarded by this.
     */
    private HttpClient http;
    /** For an https URL a plain-HTTP registry sends us to (a token realm, a redirect). Guarded by this. */
    private HttpClient tls;

    RegistryTransport(String registry, URI base, RegistryOptions options, boolean plain, Path caBundle) {
        this.registry = registry;
        this.base = base;
        this.options = options;
        this.plain = plain;
        this.caBundle = caBundle;
    }

    /** A client for one scheme; without TLS it gets a context that refuses every use (see {@link NoTls}). */
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

    /** Stops the clients' threads (see {@link HttpClientShutdown}); a later request makes new clients. */
    void release() {
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
            HttpClientShutdown.stop(c);
        }
    }

    /** The selector threads of the clients held now (for tests). */
    synchronized List<Thread> selectorThreads() {
        List<Thread> out = new ArrayList<>();
        for (HttpClient c : new HttpClient[] {http, tls}) {
            if (c != null) {
                out.addAll(HttpClientShutdown.selectorThreads(c));
            }
        }
        return out;
    }

    HttpRequest.Builder request(URI uri) {
        return HttpRequest.newBuilder(uri).GET().timeout(options.responseTimeout()).header("User-Agent", "hupd");
    }

    HttpResponse<InputStream> send(HttpRequest request, String what) throws IOException, InterruptedException {
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
                    + RegistryText.firstLine(e.getMessage()) + (base.getScheme().equals("https") && caBundle == null
                            ? " (a plain-HTTP registry needs --insecure-registry " + registry + ")" : ""), false, e);
        } catch (IOException e) {
            throw new RegistryException(what + ": " + describe(e), true, e);
        }
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : RegistryText.firstLine(m);
    }

    /** A body with the idle, low-speed and whole-body limits the JDK client does not have. */
    InputStream guard(InputStream in, String what, long totalMillis) {
        return new GuardedInputStream(in, what, options.readIdleTimeout().toMillis(), options.lowSpeedBytes(),
                totalMillis);
    }

    /** A small body read whole: a registry must not make us hold more than {@code max} bytes for it. */
    static byte[] readCapped(InputStream in, HttpResponse<?> r, int max, String what) throws IOException {
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
}
