package io.hupd.image.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/** An in-JVM HTTP server on loopback that answers like a registry, with hooks for misbehaving. */
public final class FakeRegistry implements AutoCloseable {
    /** Answers one request; returns false to fall through to the stored content. */
    @FunctionalInterface
    public interface Hook {
        boolean handle(HttpExchange ex) throws IOException;
    }

    final HttpServer server;
    public final Map<String, byte[]> manifests = new ConcurrentHashMap<>();
    public final Map<String, String> manifestTypes = new ConcurrentHashMap<>();
    public final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    public final List<String> log = new CopyOnWriteArrayList<>();
    public volatile Hook hook = ex -> false;
    public volatile boolean honourRange = true;

    public FakeRegistry() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", this::serve);
        server.start();
    }

    public String address() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    public static String sha256(byte[] b) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Stores a manifest under its digest and, when given, a tag. */
    public String putManifest(String tag, String mediaType, String json) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        String d = sha256(b);
        manifests.put(d, b);
        manifestTypes.put(d, mediaType);
        if (tag != null) {
            manifests.put(tag, b);
            manifestTypes.put(tag, mediaType);
        }
        return d;
    }

    public String putBlob(byte[] b) {
        String d = sha256(b);
        blobs.put(d, b);
        return d;
    }

    /** Answers 401 with a Basic challenge to every request without this login. */
    void requireBasicLogin(String userColonPassword) {
        String expected = "Basic " + java.util.Base64.getEncoder().encodeToString(
                userColonPassword.getBytes(StandardCharsets.UTF_8));
        hook = ex -> {
            if (!expected.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"fake\"");
                send(ex, 401, new byte[0]);
                return true;
            }
            return false;
        };
    }

    private void serve(HttpExchange ex) throws IOException {
        try (ex) {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            String range = ex.getRequestHeaders().getFirst("Range");
            log.add(ex.getRequestMethod() + " " + ex.getRequestURI() + (auth == null ? "" : " auth=" + auth)
                    + (range == null ? "" : " range=" + range));
            if (hook.handle(ex)) {
                return;
            }
            String path = ex.getRequestURI().getPath();
            String[] parts = path.split("/");
            String ref = parts[parts.length - 1];
            if (path.contains("/manifests/") && manifests.containsKey(ref)) {
                byte[] b = manifests.get(ref);
                ex.getResponseHeaders().set("Content-Type", manifestTypes.get(ref));
                ex.getResponseHeaders().set("Docker-Content-Digest", sha256(b));
                send(ex, 200, b);
            } else if (path.contains("/blobs/") && blobs.containsKey(ref)) {
                byte[] b = blobs.get(ref);
                if (range != null && honourRange) {
                    int from = Integer.parseInt(range.replaceAll("bytes=([0-9]+)-", "$1"));
                    ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (b.length - 1) + "/" + b.length);
                    byte[] rest = java.util.Arrays.copyOfRange(b, from, b.length);
                    send(ex, 206, rest);
                } else {
                    send(ex, 200, b);
                }
            } else {
                ex.getResponseHeaders().set("Content-Type", "application/json");
                send(ex, 404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}"
                        .getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    public static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
