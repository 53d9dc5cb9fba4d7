package io.hupd.web;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.cli.Main;
import io.hupd.testkit.TestRig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hupd serve} over plain HTTP: the token, what it serves, and the live stream while an update runs. */
class ServeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path tmp;
    TestRig rig;
    ServeProcess serve;

    @BeforeEach
    void start() throws Exception {
        rig = TestRig.create(tmp, "uboot");
        serve = ServeProcess.start(rig.deviceDir);
    }

    @AfterEach
    void stop() throws Exception {
        serve.close();
    }

    private HttpResponse<String> get(String pathAndQuery, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(serve.base + pathAndQuery)).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void everyPathRefusesARequestWithoutTheRightToken() throws Exception {
        String wrong = "0".repeat(64);
        for (String path : List.of("/", "/index.html", "/app.js", "/app.css", "/diagram.svg", "/api/status", "/events",
                "/nothing-here")) {
            assertEquals(401, get(path).statusCode(), path);
            assertEquals(401, get(path + "?token=" + wrong).statusCode(), path);
            assertEquals(401, get(path, "Authorization", "Bearer " + wrong).statusCode(), path);
        }
        assertEquals(200, get("/api/status", "Authorization", "Bearer " + serve.token).statusCode());
        assertEquals(404, get("/nothing-here?token=" + serve.token).statusCode());
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(serve.url))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
    }

    /** A DNS-rebinding page sends its own host name: refused even with the token. */
    @Test
    void aRequestNamingAnotherHostIsRefusedEvenWithTheToken() throws Exception {
        URI base = URI.create(serve.base);
        for (String host : List.of("attacker.example:" + base.getPort(), "127.0.0.1.nip.io", "")) {
            assertTrue(rawGet(base.getPort(), host).startsWith("HTTP/1.1 421"), host);
        }
        assertTrue(rawGet(base.getPort(), "127.0.0.1:" + base.getPort()).startsWith("HTTP/1.1 200"));
        assertTrue(rawGet(base.getPort(), "localhost:" + base.getPort()).startsWith("HTTP/1.1 200"));
    }

    private String rawGet(int port, String host) throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            String req = "GET /api/status?token=" + serve.token + " HTTP/1.1\r\nHost: " + host
                    + "\r\nConnection: close\r\n\r\n";
            s.getOutputStream().write(req.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    @Test
    void tokenFileIsOwnerOnlyAndHoldsTheToken() throws Exception {
        Path f = rig.deviceDir.resolve("data/hupd/serve-token");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertEquals(serve.token, Files.readString(f).strip());
    }

    @Test
    void pageAndEverythingItLoadsComeFromTheJar() throws Exception {
        String q = "?token=" + serve.token;
        HttpResponse<String> page = get("/" + q);
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'none'"));
        assertEquals("no-referrer", page.headers().firstValue("Referrer-Policy").orElse(""));
        for (String path : List.of("/", "/app.js", "/app.css", "/diagram.svg")) {
            String body = get(path + q).body();
            assertFalse(body.matches("(?s).*(src|href)=\"(https?:)?//.*"), path + " loads something from elsewhere");
            assertFalse(body.contains("cdn"), path);
        }
        assertEquals(Files.readString(Path.of(System.getProperty("hupd.repo", "."))
                .resolve("statemachine-diagrams/update-machine.svg")), get("/diagram.svg" + q).body(),
                "the page draws the same diagram as the committed one");
    }

    @Test
    void eventsFollowAnUpdateRunInAnotherProcess() throws Exception {
        HttpResponse<java.io.InputStream> events = http.send(HttpRequest.newBuilder(
                URI.create(serve.base + "/events?token=" + serve.token)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, events.statusCode());
        assertEquals("text/event-stream; charset=utf-8", events.headers().firstValue("Content-Type").orElse(""));
        List<JsonNode> snapshots = new ArrayList<>();
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(events.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.startsWith("data: ")) {
                        JsonNode n = JSON.readTree(line.substring(6));
                        synchronized (snapshots) {
                            snapshots.add(n);
                        }
                        if ("REBOOTING".equals(n.path("status").path("state").asText())) {
                            return;
                        }
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // The update runs in this JVM; the server is another process that only sees the files it writes.
        assertEquals(Main.OK, Main.run("update", "--device", rig.deviceDir.toString(), "--target-version", TestRig.V2,
                "--image", rig.ref(TestRig.V2)));
        reader.get(30, TimeUnit.SECONDS);
        List<String> states;
        synchronized (snapshots) {
            states = snapshots.stream().map(n -> n.path("status").path("state").asText()).distinct().toList();
        }
        assertEquals("IDLE", states.get(0), states.toString());
        assertEquals("REBOOTING", states.get(states.size() - 1), states.toString());
        assertTrue(states.size() >= 3, "the stream should show states on the way, not only the end: " + states);
        JsonNode last = snapshots.get(snapshots.size() - 1);
        assertEquals(10, last.path("update").path("transitions").size(), last.toString());
        // The last long task of an update is the slot write (the simulated one reports no byte counts).
        assertEquals("writing root B", last.path("progress").path("task").asText(), last.toString());
        assertTrue(last.path("progress").path("finished").asBoolean(), last.toString());
    }
}
