package io.hupd.cli;

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
