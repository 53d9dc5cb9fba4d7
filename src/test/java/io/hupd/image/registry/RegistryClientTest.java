package io.hupd.image.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryClientTest {
    private static final List<String> ACCEPT = List.of("application/vnd.oci.image.manifest.v1+json");
    private static final RegistryOptions FAST = RegistryOptions.DEFAULT
            .withRetries(3, Duration.ofMillis(5), Duration.ofMillis(20));
    private final FakeRegistry registry = new FakeRegistry();

    RegistryClientTest() throws Exception {}

    @TempDir
    Path tmp;

    @AfterEach
    void stop() {
        registry.close();
    }

    private RegistryClient client(RegistryOptions o) {
        return new RegistryClient(registry.address(), o);
    }

    @Test
    void plainHttpOnlyForLoopbackOrWhenAsked() {
        assertEquals("http", client(FAST).baseUri().getScheme());
        assertEquals("https", new RegistryClient("registry.example.com:5000", FAST).baseUri().getScheme());
        assertEquals("https", new RegistryClient("localhost.example.com", FAST).baseUri().getScheme());
        assertEquals("https", new RegistryClient("127.0.0.1.nip.io", FAST).baseUri().getScheme());
        assertEquals("http", new RegistryClient("registry.example.com:5000",
                FAST.withInsecure(Set.of("registry.example.com:5000"))).baseUri().getScheme());
        assertEquals("http", new RegistryClient("[::1]:5000", FAST).baseUri().getScheme());
        assertEquals("https://registry-1.docker.io", new RegistryClient("docker.io", FAST).baseUri().toString());
    }

    @Test
    void bearerTokenFromTheChallengeIsFetchedOnceAndSent() throws Exception {
        String realm = "http://" + registry.address() + "/token";
        AtomicInteger tokenCalls = new AtomicInteger();
        registry.putManifest("v1", ACCEPT.get(0), "{\"schemaVersion\":2}");
        registry.hook = ex -> {
            if (ex.getRequestURI().getPath().equals("/token")) {
                tokenCalls.incrementAndGet();
                assertEquals("service=fake&scope=repository:os/host:pull", ex.getRequestURI().getQuery());
                assertEquals(null, ex.getRequestHeaders().getFirst("Authorization"), "anonymous token request");
                FakeRegistry.send(ex, 200, "{\"token\":\"t0k\"}".getBytes(StandardCharsets.UTF_8));
                return true;
            }
            if (!"Bearer t0k".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                ex.getResponseHeaders().set("WWW-Authenticate",
                        "Bearer realm=\"" + realm + "\",service=\"fake\",scope=\"repository:os/host:pull\"");
                FakeRegistry.send(ex, 401, new byte[0]);
                return true;
            }
            return false;
        };
        RegistryClient c = client(FAST);
        assertEquals("{\"schemaVersion\":2}", new String(c.manifest("os/host", "v1", ACCEPT, 1024).body(),
                StandardCharsets.UTF_8));
        c.manifest("os/host", "v1", ACCEPT, 1024);
        assertEquals(1, tokenCalls.get());
    }

    @Test
    void basicAuthFromTheCredentialsFile() throws Exception {
        Path file = tmp.resolve("auth.json");
        Files.writeString(file, "{\"auths\":{\"http://" + registry.address() + "/v2/\":{\"auth\":\""
                + java.util.Base64.getEncoder().encodeToString("u:p:w".getBytes(StandardCharsets.UTF_8)) + "\"}}}");
        RegistryCredentials creds = RegistryCredentials.load(file);
        assertEquals("u", creds.forRegistry(registry.address()).orElseThrow().username());
        assertFalse(creds.toString().contains("p:w") || creds.forRegistry(registry.address()).get().toString()
                .contains("p:w"), "the password never reaches a log line");
        registry.putManifest("v1", ACCEPT.get(0), "{}");
        registry.requireBasicLogin("u:p:w");
        assertEquals(2, client(FAST.withCredentials(creds)).manifest("os", "v1", ACCEPT, 1024).body().length);

        RegistryException e = assertThrows(RegistryException.class,
                () -> client(FAST).manifest("os", "v1", ACCEPT, 1024));
        assertTrue(e.getMessage().contains("needs a login: give --registry-credentials FILE with an entry for "
                + registry.address()), e.getMessage());
    }

    @Test
    void aBadCredentialsFileIsOneClearLine() throws Exception {
        Path file = tmp.resolve("auth.json");
        Files.writeString(file, "{\"auths\":{\"r.example.com\":{\"auth\":\"%%%\"}}}");
        var e = assertThrows(io.hupd.ports.UserInputException.class, () -> RegistryCredentials.load(file));
        assertTrue(e.getMessage().contains("'r.example.com'") && e.getMessage().contains("\"auth\""), e.getMessage());
        var missing = assertThrows(io.hupd.ports.UserInputException.class,
                () -> RegistryCredentials.load(tmp.resolve("nope.json")));
        assertTrue(missing.getMessage().endsWith("does not exist"), missing.getMessage());
    }

    @Test
    void aTokenRealmOverPlainHttpElsewhereIsRefused() {
        registry.hook = ex -> {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"http://auth.example.com/token\"");
            FakeRegistry.send(ex, 401, new byte[0]);
            return true;
        };
        RegistryException e = assertThrows(RegistryException.class,
                () -> client(FAST).manifest("os", "v1", ACCEPT, 1024));
        assertTrue(e.getMessage().contains("refusing the token realm http://auth.example.com/token"), e.getMessage());
    }

    @Test
    void serverErrorsAreRetriedAWhileButNotFoundIsNot() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        registry.putManifest("v1", ACCEPT.get(0), "{}");
        registry.hook = ex -> {
            if (calls.incrementAndGet() < 3) {
                FakeRegistry.send(ex, 503, new byte[0]);
                return true;
            }
            return false;
        };
        client(FAST).manifest("os", "v1", ACCEPT, 1024);
        assertEquals(3, calls.get());

        calls.set(0);
        registry.hook = ex -> {
            calls.incrementAndGet();
            return false;
        };
        RegistryException notFound = assertThrows(RegistryException.class,
                () -> client(FAST).manifest("os", "missing", ACCEPT, 1024));
        assertEquals(1, calls.get());
        assertTrue(notFound.getMessage().contains("not found (404): MANIFEST_UNKNOWN manifest unknown"),
                notFound.getMessage());

        calls.set(0);
        registry.hook = ex -> {
            calls.incrementAndGet();
            FakeRegistry.send(ex, 500, new byte[0]);
            return true;
        };
        RegistryException gaveUp = assertThrows(RegistryException.class,
                () -> client(FAST).manifest("os", "v1", ACCEPT, 1024));
        assertEquals(3, calls.get(), "bounded by maxAttempts");
        assertTrue(gaveUp.getMessage().contains("answered 500") && gaveUp.getMessage().contains("after 3 tries"),
                gaveUp.getMessage());
    }

    @Test
    void anOversizedManifestIsRefusedBeforeItIsRead() {
        registry.putManifest("big", ACCEPT.get(0), "{\"x\":\"" + "a".repeat(5000) + "\"}");
        RegistryException e = assertThrows(RegistryException.class,
                () -> client(FAST).manifest("os", "big", ACCEPT, 4096));
        assertTrue(e.getMessage().contains("more than the 4096 allowed"), e.getMessage());
    }

    @Test
    void aRegistryThatStopsSendingIsCutByTheIdleTimeLimit() {
        registry.hook = ex -> {
            ex.sendResponseHeaders(200, 1000);
            OutputStream out = ex.getResponseBody();
            out.write(new byte[10]);
            out.flush();
            try {
                Thread.sleep(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return true;
        };
        RegistryOptions o = FAST.withRetries(1, Duration.ofMillis(1), Duration.ofMillis(1))
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofMillis(300), Duration.ofSeconds(10));
        long start = System.nanoTime();
        RegistryException e = assertThrows(RegistryException.class, () -> {
            try (RegistryClient.BlobBody b = client(o).blob("os", "sha256:" + "a".repeat(64), 0, 1000)) {
                b.in().readAllBytes();
            }
        });
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(e.getMessage().contains("stalled, only 10 bytes in 300 ms"), e.getMessage());
        assertTrue(ms < 3000, "cut after " + ms + " ms");
    }

    /** Sends {@code length} bytes announced, one every 20 ms: never idle, always far too slow. */
    private static FakeRegistry.Hook dripping(int length) {
        return ex -> {
            ex.sendResponseHeaders(200, length);
            OutputStream out = ex.getResponseBody();
            try {
                for (int i = 0; i < length; i++) {
                    out.write('{');
                    out.flush();
                    Thread.sleep(20);
                }
            } catch (InterruptedException | IOException e) {
                // the client hung up
            }
            return true;
        };
    }

    /** Issue 18 finding 8: a byte now and then kept a blob alive for its whole-request limit, tried four times. */
    @Test
    void aBlobDrippingBytesIsCutByTheLowSpeedLimitNotTheWholeRequestLimit() {
        registry.hook = dripping(100_000);
        RegistryOptions o = FAST.withRetries(1, Duration.ofMillis(1), Duration.ofMillis(1))
                .withLowSpeedLimit(200, Duration.ofMillis(400));
        RegistryException e = assertThrows(RegistryException.class, () -> {
            try (RegistryClient.BlobBody b = client(o).blob("os", "sha256:" + "a".repeat(64), 0, 100_000)) {
                b.in().readAllBytes();
            }
        });
        assertTrue(e.getMessage().contains("stalled, only ") && e.getMessage().contains("the low-speed limit is 200"
                + " bytes in 400 ms"), e.getMessage());
        assertTrue(e.retryable(), "a stall may pass: the download resumes, a bounded number of times");
    }

    @Test
    void aManifestDrippingBytesIsCutByTheLowSpeedLimitOnEveryTry() {
        registry.hook = dripping(2000);
        RegistryOptions o = FAST.withRetries(2, Duration.ofMillis(1), Duration.ofMillis(1))
                .withLowSpeedLimit(200, Duration.ofMillis(400));
        RegistryException e = assertThrows(RegistryException.class,
                () -> client(o).manifest("os", "latest", ACCEPT, 4096));
        assertTrue(e.getMessage().contains("stalled") && e.getMessage().contains("(after 2 tries)"), e.getMessage());
        assertEquals(2, registry.log.size(), registry.log.toString());
    }

    @Test
    void aRedirectToAnotherHostNeverCarriesTheCredential() throws Exception {
        try (FakeRegistry cdn = new FakeRegistry()) {
            byte[] blob = "layer bytes".getBytes(StandardCharsets.UTF_8);
            String digest = cdn.putBlob(blob);
            String realm = "http://" + registry.address() + "/token";
            registry.hook = ex -> {
                if (ex.getRequestURI().getPath().equals("/token")) {
                    FakeRegistry.send(ex, 200, "{\"access_token\":\"secret\"}".getBytes(StandardCharsets.UTF_8));
                } else if (!"Bearer secret".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                    ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"" + realm + "\"");
                    FakeRegistry.send(ex, 401, new byte[0]);
                } else {
                    ex.getResponseHeaders().set("Location", "http://" + cdn.address() + "/v2/os/blobs/" + digest);
                    FakeRegistry.send(ex, 307, new byte[0]);
                }
                return true;
            };
            try (RegistryClient.BlobBody b = client(FAST).blob("os", digest, 0, blob.length);
                    InputStream in = b.in()) {
                assertArrayEquals(blob, in.readAllBytes());
            }
            assertEquals(List.of("GET /v2/os/blobs/" + digest), cdn.log, "no Authorization sent to the CDN");
        }
    }

    /**
     * A plain-HTTP registry's client has no TLS context (it would cost start-up time for nothing); an https URL it
     * is sent to must still be spoken to over TLS. The "https" server here answers every connection with plain
     * text, so the handshake fails: failing in the handshake is what shows a real TLS client was used.
     */
    @Test
    void anHttpsRedirectFromAPlainRegistryIsSpokenToOverTls() throws Exception {
        try (ServerSocket notTls = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                while (true) {
                    try (Socket s = notTls.accept()) {
                        s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
            String https = "127.0.0.1:" + notTls.getLocalPort();
            registry.hook = ex -> {
                ex.getResponseHeaders().set("Location", "https://" + https + "/elsewhere");
                FakeRegistry.send(ex, 307, new byte[0]);
                return true;
            };
            RegistryClient c = client(FAST);
            assertEquals("http", c.baseUri().getScheme());
            RegistryException e = assertThrows(RegistryException.class,
                    () -> c.blob("os", "sha256:" + "b".repeat(64), 0, 10));
            assertTrue(e.getMessage().contains("TLS with " + https + " failed"), e.getMessage());
        }
    }

    @Test
    void aRedirectToPlainHttpElsewhereIsRefused() {
        registry.hook = ex -> {
            ex.getResponseHeaders().set("Location", "http://cdn.example.com/blob");
            FakeRegistry.send(ex, 302, new byte[0]);
            return true;
        };
        RegistryException e = assertThrows(RegistryException.class,
                () -> client(FAST).blob("os", "sha256:" + "b".repeat(64), 0, 10));
        assertTrue(e.getMessage().contains("refusing a redirect to http://cdn.example.com"), e.getMessage());
    }

    /**
     * release() ends the JDK client's selector thread (left alone, it sits in native code until the process
     * ends, and the VM waits up to 300 ms for it at exit); the next request starts a new client.
     */
    @Test
    void releaseStopsTheClientsThreadAndALaterRequestStillWorks() throws Exception {
        registry.putManifest("v1", ACCEPT.get(0), "{\"schemaVersion\":2}");
        RegistryClient c = client(FAST);
        c.manifest("os", "v1", ACCEPT, 1024);
        List<Thread> threads = c.selectorThreads();
        assertEquals(1, threads.size(), "one selector thread, found by its name");
        assertTrue(threads.get(0).isAlive());
        c.release();
        threads.get(0).join(5000);
        assertFalse(threads.get(0).isAlive(), "the selector thread ended");
        assertEquals(List.of(), c.selectorThreads());
        assertEquals("{\"schemaVersion\":2}", new String(c.manifest("os", "v1", ACCEPT, 1024).body(),
                StandardCharsets.UTF_8));
        assertEquals(1, c.selectorThreads().size());
        c.release();
    }

    /** Large socket buffers for the JDK client, set before it is first used (it reads the property once). */
    @Test
    void theHttpClientGetsLargeBuffersUnlessTheUserChoseASize() {
        client(FAST);
        assertEquals(Integer.toString(RegistryTransport.BUFSIZE), System.getProperty(RegistryTransport.BUFSIZE_PROPERTY));
    }

    @Test
    void challengeParametersMayBeQuotedAndContainCommas() {
        Map<String, String> p = RegistryAuth.authParams(
                " realm=\"https://auth.example.com/token\",service=registry.example.com,"
                        + "scope=\"repository:a/b:pull,push\"");
        assertEquals("https://auth.example.com/token", p.get("realm"));
        assertEquals("registry.example.com", p.get("service"));
        assertEquals("repository:a/b:pull,push", p.get("scope"));
    }
}
