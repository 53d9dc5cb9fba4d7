package io.hupd.image.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Locale;
import java.util.Map;

/**
 * One logical request: answers a 401 challenge once, follows redirects (never carrying the credential to
 * another origin), and turns every error status into a one-line RegistryException. The JDK client is not let
 * to follow redirects, because it would send the Authorization header wherever the registry points (blob
 * storage on another host, or plain HTTP).
 */
final class RegistryExchange {
    private static final int MAX_REDIRECTS = 5;

    private final URI base;
    private final RegistryOptions options;
    private final RegistryTransport transport;
    private final RegistryAuth auth;
    private final StatusErrors errors;

    RegistryExchange(URI base, RegistryOptions options, RegistryTransport transport, RegistryAuth auth,
            StatusErrors errors) {
        this.base = base;
        this.options = options;
        this.transport = transport;
        this.auth = auth;
        this.errors = errors;
    }

    /** The caller owns the returned body. */
    HttpResponse<InputStream> exchange(String what, URI uri, Map<String, String> headers, String scope)
            throws IOException, InterruptedException {
        URI target = uri;
        boolean sameOrigin = true;
        boolean challenged = false;
        for (int redirects = 0; ; ) {
            HttpRequest.Builder b = transport.request(target);
            headers.forEach(b::header);
            if (sameOrigin) {
                auth.authorization(scope).ifPresent(v -> b.header("Authorization", v));
            }
            HttpResponse<InputStream> r = transport.send(b.build(), what);
            int status = r.statusCode();
            if (status == 401 && sameOrigin && !challenged) {
                String challenge = r.headers().firstValue("WWW-Authenticate").orElse(null);
                r.body().close();
                challenged = true;
                auth.authenticate(challenge, scope, what);
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
                // once away from the registry, always away: a redirect back is not trusted with the credential
                sameOrigin = sameOrigin && origin(next).equals(origin(base));
                target = next;
                continue;
            }
            if (status >= 200 && status < 300) {
                return r;
            }
            throw errors.statusError(what, r, challenged);
        }
    }

    private URI resolveRedirect(URI from, String location, String what) throws RegistryException {
        URI next;
        try {
            next = from.resolve(new URI(location.strip()));
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new RegistryException(what + ": redirect to a bad location '" + RegistryText.printable(location)
                    + "'", false);
        }
        String scheme = next.getScheme() == null ? "" : next.getScheme().toLowerCase(Locale.ROOT);
        if (next.getHost() == null || !(scheme.equals("https")
                || (scheme.equals("http") && options.plainHttpAllowed(next.getHost(), next.getPort())))) {
            throw new RegistryException(what + ": refusing a redirect to "
                    + RegistryText.printable(scheme + "://" + next.getHost())
                    + " (only https, or http to loopback and --insecure-registry hosts)", false);
        }
        return next;
    }

    private static String origin(URI u) {
        int port = u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
        return (u.getScheme() + "://" + u.getHost() + ":" + port).toLowerCase(Locale.ROOT);
    }
}
