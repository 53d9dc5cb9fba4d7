package io.hupd.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;

/**
 * Turns a registry's error status into one line the user can act on (a login to give, a name to check), and
 * says whether trying again may help: a 5xx, a 408 or a 429 may pass, the rest will not.
 */
final class StatusErrors {
    private static final int MAX_ERROR_BYTES = 16 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String registry;
    private final RegistryOptions options;
    private final RegistryTransport transport;

    /** A 429, with how long the registry asked us to wait before the next try. */
    static final class TooManyRequests extends RegistryException {
        final long retryAfterMillis;

        TooManyRequests(String message, long retryAfterMillis) {
            super(message, true);
            this.retryAfterMillis = retryAfterMillis;
        }
    }

    StatusErrors(String registry, RegistryOptions options, RegistryTransport transport) {
        this.registry = registry;
        this.options = options;
        this.transport = transport;
    }

    RegistryException statusError(String what, HttpResponse<InputStream> r, boolean challenged) {
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
        return status == 404 ? new RegistryClient.NotFound(msg) : new RegistryException(msg, retryable);
    }

    /** The registry's own error codes ({"errors":[{"code":..,"message":..}]}), when it sent them. */
    private String errorDetail(HttpResponse<InputStream> r) {
        byte[] body;
        try (InputStream in = transport.guard(r.body(), "error body", options.documentTimeout().toMillis())) {
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
                return d.isEmpty() ? "" : ": " + RegistryText.printable(d);
            }
        } catch (IOException | RuntimeException e) {
            // not the registry's JSON: the status says enough
        }
        return "";
    }
}
