package io.hupd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.hupd.image.registry.RegistrySettings;
import io.hupd.ports.UserInputException;
import io.hupd.runner.UpdateRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The local API's wire format (docs/service.md): JSON lines over the daemon's Unix socket. The client sends one
 * request line, {@code {"op": "update" | "abort" | "status" | "follow", ...}}; the daemon answers with event lines
 * and closes the connection after the last one, {@code {"event": "end", "exit": N}}. Events: {@code out} and
 * {@code err} (a line the command prints on standard output or error), {@code state} (the update entered a
 * state), {@code progress} (a download or write), {@code status} (the status object).
 */
final class ApiProtocol {
    static final ObjectMapper JSON = new ObjectMapper();
    /** A request is a few hundred bytes; a line longer than this is not one. */
    static final int MAX_REQUEST_BYTES = 64 * 1024;

    private ApiProtocol() {}

    /**
     * An update request as the client means it: the update, whether it prints JSON, and every registry option of
     * {@code hupd update} (paths absolute: the daemon runs in a folder of its own).
     */
    record UpdateOrder(UpdateRequest request, boolean json, RegistrySettings registries,
            Map<String, Path> registryCa) {}

    static Map<String, Object> updateRequest(UpdateOrder o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", "update");
        m.put("targetVersion", o.request().targetVersion());
        m.put("images", o.request().images());
        m.put("delta", o.request().delta());
        m.put("requireUpgrade", o.request().requireUpgrade());
        m.put("reboot", o.request().reboot());
        m.put("json", o.json());
        m.put("insecureRegistries", o.registries().insecureRegistries());
        m.put("registryCredentials", o.registries().credentialsFile());
        m.put("registrySpeedLimit", o.registries().lowSpeedBytes());
        m.put("registrySpeedTime", o.registries().lowSpeedSeconds());
        Map<String, String> ca = new LinkedHashMap<>();
        o.registryCa().forEach((host, file) -> ca.put(host, file.toString()));
        m.put("registryCa", ca);
        return m;
    }

    /** @throws UserInputException when a field is missing or of the wrong kind */
    static UpdateOrder updateOrder(JsonNode req) {
        if (!req.path("targetVersion").isTextual()) {
            throw new UserInputException("the request has no targetVersion");
        }
        String delta = req.path("delta").isTextual() ? req.path("delta").asText() : null;
        UpdateRequest request = new UpdateRequest(req.path("targetVersion").asText(), strings(req.path("images")),
                delta, req.path("requireUpgrade").asBoolean(true), req.path("reboot").asBoolean(true));
        String credentials = req.path("registryCredentials").isTextual()
                ? req.path("registryCredentials").asText() : null;
        RegistrySettings registries = RegistrySettings.of(strings(req.path("insecureRegistries")),
                credentials == null ? null : Path.of(credentials), number(req, "registrySpeedLimit"),
                number(req, "registrySpeedTime") == null ? null : number(req, "registrySpeedTime").intValue());
        Map<String, Path> ca = new LinkedHashMap<>();
        JsonNode cas = req.path("registryCa");
        if (cas.isObject()) {
            cas.fields().forEachRemaining(e -> {
                if (!e.getValue().isTextual()) {
                    throw new UserInputException("registryCa " + e.getKey() + " must be a file name");
                }
                ca.put(e.getKey(), Path.of(e.getValue().asText()));
            });
        } else if (!cas.isMissingNode() && !cas.isNull()) {
            throw new UserInputException("registryCa must be an object of HOST[:PORT]: FILE");
        }
        return new UpdateOrder(request, req.path("json").asBoolean(false), registries, ca);
    }

    private static Long number(JsonNode req, String field) {
        JsonNode n = req.path(field);
        if (n.isMissingNode() || n.isNull()) {
            return null;
        }
        if (!n.canConvertToLong()) {
            throw new UserInputException(field + " must be a whole number, not " + n);
        }
        return n.asLong();
    }

    private static List<String> strings(JsonNode array) {
        List<String> l = new ArrayList<>();
        if (array.isArray()) {
            array.forEach(n -> l.add(n.asText()));
        } else if (!array.isMissingNode() && !array.isNull()) {
            throw new UserInputException("expected a list of strings in the request, not " + array);
        }
        return l;
    }

    static String event(String kind, Object... fieldsAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", kind);
        for (int i = 0; i < fieldsAndValues.length; i += 2) {
            m.put((String) fieldsAndValues[i], fieldsAndValues[i + 1]);
        }
        try {
            return JSON.writeValueAsString(m);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String line(String kind, String text) {
        return event(kind, "line", text);
    }

    static String end(int exit) {
        return event("end", "exit", exit);
    }

    /** One line (without its newline), or null at the end of the stream; longer than {@code max}: an error. */
    static String readLine(InputStream in, int max) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) != -1; ) {
            if (c == '\n') {
                return b.toString(StandardCharsets.UTF_8);
            }
            if (b.size() >= max) {
                throw new IOException("a line longer than " + max + " bytes");
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.UTF_8);
    }

    /** An output stream that hands each complete line written to it to {@code sink} (the rest at close). */
    static OutputStream lines(Consumer<String> sink) {
        return new OutputStream() {
            private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

            @Override
            public synchronized void write(int b) {
                if (b == '\n') {
                    sink.accept(pending.toString(StandardCharsets.UTF_8));
                    pending.reset();
                } else {
                    pending.write(b);
                }
            }

            @Override
            public synchronized void close() {
                if (pending.size() > 0) {
                    write('\n');
                }
            }
        };
    }
}
