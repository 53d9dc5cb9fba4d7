package io.hupd.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Debian's chromium driven through its chromedriver with plain W3C WebDriver requests over HTTP (no Selenium:
 * the handful of calls below is all the tests need).
 */
final class ChromeDriver implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> CHROMIUM_ARGS = List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--window-size=1600,1100");

    private final Process driver;
    private final String base;
    private final String session;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    record Tools(Path chromium, Path chromedriver) {}

    /** Both binaries, or empty when either is missing. */
    static Optional<Tools> find() {
        Path chromium = first("chromium", "chromium-browser", "google-chrome");
        Path driver = first("chromedriver");
        return chromium == null || driver == null ? Optional.empty() : Optional.of(new Tools(chromium, driver));
    }

    private static Path first(String... names) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            for (String n : names) {
                Path p = Path.of(dir, n);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    ChromeDriver(Tools tools, Path userDataDir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        driver = new ProcessBuilder(tools.chromedriver().toString(), "--port=" + port)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        base = "http://127.0.0.1:" + port;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                if (call("GET", "/status", null).path("value").path("ready").asBoolean()) {
                    break;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                driver.destroyForcibly();
                throw new IllegalStateException("chromedriver did not start");
            }
            Thread.sleep(100);
        }
        List<String> args = new java.util.ArrayList<>(CHROMIUM_ARGS);
        args.add("--user-data-dir=" + userDataDir);
        Map<String, Object> caps = Map.of("capabilities", Map.of("alwaysMatch", Map.of("browserName", "chrome",
                "goog:chromeOptions", Map.of("binary", tools.chromium().toString(), "args", args))));
        JsonNode r = call("POST", "/session", caps);
        session = r.path("value").path("sessionId").asText(null);
        if (session == null) {
            driver.destroyForcibly();
            throw new IllegalStateException("chromedriver made no session: " + r);
        }
    }

    void open(String url) throws Exception {
        call("POST", "/session/" + session + "/url", Map.of("url", url));
    }

    JsonNode eval(String script) throws Exception {
        JsonNode r = call("POST", "/session/" + session + "/execute/sync", Map.of("script", script, "args", List.of()));
        if (r.path("value").has("error")) {
            throw new IllegalStateException("script failed: " + r.path("value"));
        }
        return r.path("value");
    }

    void screenshot(Path png) throws Exception {
        String b64 = call("GET", "/session/" + session + "/screenshot", null).path("value").asText();
        Files.createDirectories(png.toAbsolutePath().getParent());
        Files.write(png, Base64.getDecoder().decode(b64));
    }

    private JsonNode call(String method, String path, Object body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        }
        HttpResponse<String> resp = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(resp.body());
    }

    @Override
    public void close() throws Exception {
        try {
            if (session != null) {
                call("DELETE", "/session/" + session, null);
            }
        } finally {
            driver.destroy();
            if (!driver.waitFor(10, TimeUnit.SECONDS)) {
                driver.destroyForcibly();
            }
        }
    }
}
