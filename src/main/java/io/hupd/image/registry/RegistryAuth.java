package io.hupd.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Logging in to one registry: answers its {@code WWW-Authenticate} challenge with a bearer token fetched from the
 * realm it names, or with basic auth, and gives the {@code Authorization} a request carries. Tokens are kept per
 * scope, so a later request (and a later download, after {@link RegistryClient#release}) needs no new challenge.
 */
final class RegistryAuth {
    static final int MAX_TOKEN_BYTES = 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern AUTH_PARAM = Pattern.compile("([A-Za-z][A-Za-z0-9_-]*)\\s*=\\s*(?:\"((?:[^\"\\\\]|\\\\.)*)\"|([^,\\s]*))");

    private final String registry;
    private final URI base;
    private final RegistryOptions options;
    private final RegistryTransport transport;
    private final StatusErrors errors;
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    private volatile boolean basicAuth;

    RegistryAuth(String registry, URI base, RegistryOptions options, RegistryTransport transport,
            StatusErrors errors) {
        this.registry = registry;
        this.base = base;
        this.options = options;
        this.transport = transport;
        this.errors = errors;
    }

    /** The token scope of a read-only request. */
    static String pullScope(String repository) {
        return "repository:" + repository + ":pull";
    }

    Optional<String> authorization(String scope) {
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
    void authenticate(String challenge, String scope, String what) throws IOException, InterruptedException {
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
            throw new RegistryException(what + ": unsupported auth scheme '" + RegistryText.printable(scheme) + "'",
                    false);
        }
        fetchToken(params, scope, what, login);
    }

    /** The realm gets the password (when there is one), so it must be a place a password may go. */
    private void fetchToken(Map<String, String> params, String scope, String what,
            Optional<RegistryCredentials.Login> login) throws IOException, InterruptedException {
        String realm = params.get("realm");
        if (realm == null || realm.isBlank()) {
            throw new RegistryException(what + ": the bearer challenge names no realm", false);
        }
        URI realmUri;
        try {
            realmUri = new URI(realm);
        } catch (URISyntaxException e) {
            throw new RegistryException(what + ": the token realm '" + RegistryText.printable(realm)
                    + "' is not a URL", false);
        }
        String realmScheme = realmUri.getScheme() == null ? "" : realmUri.getScheme().toLowerCase(Locale.ROOT);
        if (realmUri.getHost() == null || !(realmScheme.equals("https") || (realmScheme.equals("http")
                && options.plainHttpAllowed(realmUri.getHost(), realmUri.getPort())))) {
            throw new RegistryException(what + ": refusing the token realm " + RegistryText.printable(realm)
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
        HttpRequest.Builder b = transport.request(tokenUri);
        login.ifPresent(l -> b.header("Authorization", l.basicHeader()));
        String tokenWhat = "token for " + registry + " from " + realmUri.getAuthority();
        HttpResponse<InputStream> r = transport.send(b.build(), tokenWhat);
        if (r.statusCode() / 100 != 2) {
            throw errors.statusError(tokenWhat, r, true);
        }
        byte[] body;
        try (InputStream in = transport.guard(r.body(), tokenWhat, options.documentTimeout().toMillis())) {
            body = RegistryTransport.readCapped(in, r, MAX_TOKEN_BYTES, tokenWhat);
        }
        String token;
        try {
            JsonNode json = JSON.readTree(body);
            JsonNode t = json == null ? null : json.has("token") ? json.get("token") : json.get("access_token");
            token = t != null && t.isTextual() ? t.textValue() : null;
        } catch (IOException e) {
            token = null;
        }
        // it goes into a header as it is: anything but visible ASCII would not make a valid one
        if (token == null || token.isEmpty() || !token.matches("[\\x21-\\x7e]+")) {
            throw new RegistryException(tokenWhat + ": the answer has no usable token", false);
        }
        tokens.put(scope, token);
    }

    /** The challenge's parameters, names in lower case; a quoted value may hold commas and escaped quotes. */
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
}
