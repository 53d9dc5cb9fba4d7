package io.hupd.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.hupd.diagram.Diagrams;
import io.hupd.diagram.MachineModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The status page over the JDK's own HTTP server: a page, three static files from the jar, the diagram, the
 * status as JSON and as server-sent events. Loopback only, and every request must carry the token (in the query,
 * as {@code ?token=}, or as {@code Authorization: Bearer}); the page is sent with the token filled in so that the
 * browser's follow-up requests carry it too.
 */
public final class StatusServer implements AutoCloseable {
    private static final long HEARTBEAT_MS = 15_000;
    private static final String CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self';"
            + " style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private final HttpServer server;
    private final ExecutorService pool;
    private final LiveStatus live;
    private final String token;
    private final String svg;

    public StatusServer(int port, String token, LiveStatus live) throws IOException {
        this.token = token;
        this.live = live;
        this.svg = Diagrams.render(MachineModel.live(), Diagrams.Format.SVG);
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        this.pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "hupd-serve");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(pool);
        server.createContext("/", this::handle);
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public String url() {
        return "http://127.0.0.1:" + port() + "/?token=" + token;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            // DNS rebinding: a page from another site that points its own name at 127.0.0.1 sends that name.
            String host = ex.getRequestHeaders().getFirst("Host");
            if (host == null || !host.matches("(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]{1,5})?")) {
                send(ex, 421, "text/plain; charset=utf-8", ("hupd: open this page by its loopback address"
                        + " (the URL 'hupd serve' printed)\n").getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (!authorized(ex)) {
                ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"hupd\"");
                send(ex, 401, "text/plain; charset=utf-8", ("hupd: this page needs its token: open the URL that"
                        + " 'hupd serve' printed (the token is in data/hupd/serve-token on the device)\n")
                        .getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
                send(ex, 405, "text/plain; charset=utf-8", "only GET\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            switch (ex.getRequestURI().getPath()) {
                case "/", "/index.html" -> send(ex, 200, "text/html; charset=utf-8",
                        resource("index.html").replace("{{token}}", token).getBytes(StandardCharsets.UTF_8));
                case "/app.js" -> send(ex, 200, "text/javascript; charset=utf-8", bytes("app.js"));
                case "/app.css" -> send(ex, 200, "text/css; charset=utf-8", bytes("app.css"));
                case "/diagram.svg" -> send(ex, 200, "image/svg+xml", svg.getBytes(StandardCharsets.UTF_8));
                case "/api/status" -> send(ex, 200, "application/json",
                        live.current().getValue().getBytes(StandardCharsets.UTF_8));
                case "/events" -> events(ex);
                default -> send(ex, 404, "text/plain; charset=utf-8", "not found\n".getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private boolean authorized(HttpExchange ex) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null && auth.startsWith("Bearer ") && ServeToken.matches(token, auth.substring(7).strip())) {
            return true;
        }
        return ServeToken.matches(token, query(ex.getRequestURI()).get("token"));
    }

    private static Map<String, String> query(URI uri) {
        String q = uri.getRawQuery();
        java.util.HashMap<String, String> m = new java.util.HashMap<>();
        if (q == null) {
            return m;
        }
        for (String kv : q.split("&")) {
            int i = kv.indexOf('=');
            if (i > 0) {
                m.put(URLDecoder.decode(kv.substring(0, i), StandardCharsets.UTF_8),
                        URLDecoder.decode(kv.substring(i + 1), StandardCharsets.UTF_8));
            }
        }
        return m;
    }

    /** Server-sent events: the snapshot now, then each new one, and a comment now and then to keep it open. */
    private void events(HttpExchange ex) throws IOException {
        headers(ex, "text/event-stream; charset=utf-8");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        long sent = -1;
        try {
            while (live.running()) {
                Map.Entry<Long, String> s = live.awaitAfter(sent, HEARTBEAT_MS);
                if (s.getKey() > sent) {
                    out.write(("id: " + s.getKey() + "\nevent: snapshot\ndata: " + s.getValue() + "\n\n")
                            .getBytes(StandardCharsets.UTF_8));
                    sent = s.getKey();
                } else {
                    out.write(": still here\n\n".getBytes(StandardCharsets.UTF_8));
                }
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // The browser went away (or the server stops): nothing to clean up.
        }
    }

    private static void headers(HttpExchange ex, String type) {
        var h = ex.getResponseHeaders();
        h.set("Content-Type", type);
        h.set("Cache-Control", "no-store");
        h.set("X-Content-Type-Options", "nosniff");
        // The token is in the page's URL: keep it out of Referer headers.
        h.set("Referrer-Policy", "no-referrer");
        h.set("Content-Security-Policy", CSP);
    }

    private static void send(HttpExchange ex, int code, String type, byte[] body) throws IOException {
        headers(ex, type);
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(code, head ? -1 : body.length);
        if (!head) {
            ex.getResponseBody().write(body);
        }
    }

    private static byte[] bytes(String name) throws IOException {
        try (InputStream in = StatusServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("the jar lacks the page's file " + name);
            }
            return in.readAllBytes();
        }
    }

    private static String resource(String name) throws IOException {
        return new String(bytes(name), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        live.close();
        server.stop(0);
        pool.shutdownNow();
    }
}
