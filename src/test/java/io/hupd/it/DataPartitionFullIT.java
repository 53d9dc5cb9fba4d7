package io.hupd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.hupd.adapters.sim.SampleOs;
import io.hupd.device.Device;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.authoring.OciLayoutWriter;
import io.hupd.image.fetch.ImageSources;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.machine.MachineLimits;
import io.hupd.machine.UpdateState;
import io.hupd.ports.Clock;
import io.hupd.ports.Progress;
import io.hupd.runner.StepRegistry;
import io.hupd.runner.UpdateLog;
import io.hupd.runner.UpdateRequest;
import io.hupd.runner.UpdateService;
import io.hupd.testkit.TestRig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18 findings 1, 2, 7 and 8, on a data partition that really fills (a tmpfs of a few MiB mounted over the
 * device's data/) and through the launcher at its default flags: a manifest declaring a 2^62-byte layer, the
 * user's application filling the partition in the middle of a download, a registry that stalls, and an abort of
 * a slow download. After each, {@code hupd boot --until-settled} must end on a working OS with the supervisor
 * running, and {@code hupd status} must tell the truth.
 */
class DataPartitionFullIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String V2 = TestRig.V2;
    private static final String TAG = "hostos:" + V2;

    @TempDir
    static Path shared;
    static LocalRegistry registry;
    static ResolvedImage image;
    static Path layout;

    @TempDir
    Path tmp;

    @BeforeAll
    static void images() throws Exception {
        LocalRegistry.requireTools();
        Path rootfs = shared.resolve("rootfs");
        SampleOs.writeRootfs(rootfs, V2, "14.1.0", SampleOs.Flaw.NONE);
        // incompressible, so the layer is several MiB and downloads in many chunks
        byte[] firmware = new byte[3 << 20];
        new Random(18).nextBytes(firmware);
        Files.write(Files.createDirectories(rootfs.resolve("lib/firmware")).resolve("blob.bin"), firmware);
        layout = shared.resolve("layout");
        image = OciLayoutWriter.write(rootfs, new ImageSpec(V2, TestRig.TYPE, "arm64", Optional.of("14.1.0")), layout,
                "good");
        registry = LocalRegistry.start(shared.resolve("registry"));
        registry.push("oci:" + layout + ":good", TAG);
    }

    @AfterAll
    static void stop() throws Exception {
        if (registry != null) {
            registry.stop();
        }
    }

    record Run(int code, String out, String err) {
        JsonNode json() throws IOException {
            return JSON.readTree(out.substring(out.indexOf('{')));
        }
    }

    /** {@code ./hupd ARGS}: the launcher at its default flags (64 MiB heap), as a user runs it. */
    private static Process start(Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("bash", Path.of("hupd").toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectOutput(log.toFile()).redirectError(log.resolveSibling(
                log.getFileName() + ".err").toFile()).start();
    }

    private Run hupd(String... args) throws Exception {
        Path log = Files.createTempFile(tmp, "hupd-", ".out");
        Process p = start(log, args);
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "hupd " + String.join(" ", args) + " hung");
        return ended(p, log);
    }

    private static Run ended(Process p, Path log) throws IOException {
        return new Run(p.exitValue(), Files.readString(log), Files.readString(log.resolveSibling(log.getFileName()
                + ".err")));
    }

    /** Mounts a tmpfs of {@code mib} MiB over the device's data/, with what it held copied in. */
    private static AutoCloseable smallDataPartition(TestRig rig, int mib) throws Exception {
        Path data = rig.sim.dataDir();
        Path kept = data.resolveSibling("data.before");
        sh("cp", "-a", data.toString(), kept.toString());
        sh("mount", "-t", "tmpfs", "-o", "size=" + mib + "m", "tmpfs", data.toString());
        sh("cp", "-a", kept + "/.", data.toString());
        return () -> sh("umount", "-l", data.toString());
    }

    private static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd) + ": " + out);
    }

    private static List<Path> partials(TestRig rig) throws IOException {
        Path cache = rig.sim.dataDir().resolve("hupd/cache");
        if (!Files.exists(cache)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(cache)) {
            return s.filter(p -> p.getFileName().toString().startsWith(".partial-")).toList();
        }
    }

    /** Powers the device on until it settles and checks that it runs v1, healthy, and that status says so. */
    private JsonNode settlesOnTheOldOs(TestRig rig, String reasonPart) throws Exception {
        Run boot = hupd("boot", "--device", rig.deviceDir.toString(), "--until-settled", "--json");
        assertEquals(0, boot.code(), boot.out() + boot.err());
        Run status = hupd("status", "--device", rig.deviceDir.toString(), "--json");
        assertEquals(0, status.code(), status.err());
        JsonNode s = status.json();
        String context = s.toString();
        assertEquals(TestRig.V1, s.get("runningVersion").asText(), context);
        assertEquals("FAILED", s.get("state").asText(), context);
        assertTrue(s.get("reason").asText().contains(reasonPart), context);
        assertTrue(s.get("supervisor").get("running").asBoolean(), context);
        assertEquals("0", s.get("bootloader").get("upgrade_available").asText(), context);
        assertEquals(0, s.get("breadcrumbs").size(), context);
        assertEquals("user data\n", Files.readString(rig.sim.dataDir().resolve("user/notes.txt")), context);
        assertTrue(s.get("waitingFor").isNull(), context);
        Run text = hupd("status", "--device", rig.deviceDir.toString());
        assertTrue(text.out().contains(reasonPart), text.out());
        return s;
    }

    /** A registry that lies: it serves the real image, with hooks for one manifest or blob. */
    static final class HostileRegistry implements AutoCloseable {
        interface Body {
            void send(HttpExchange ex) throws IOException, InterruptedException;
        }

        final HttpServer server;
        final java.util.Map<String, byte[]> manifests = new java.util.concurrent.ConcurrentHashMap<>();
        final java.util.Map<String, Body> blobs = new java.util.concurrent.ConcurrentHashMap<>();

        HostileRegistry() throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.setExecutor(Executors.newCachedThreadPool());
            server.createContext("/", this::serve);
            server.start();
        }

        String ref(String tag) {
            return "docker://127.0.0.1:" + server.getAddress().getPort() + "/hostos:" + tag;
        }

        void blobFromLayout(Descriptor d) {
            blobs.put(d.digest(), ex -> {
                byte[] b = Files.readAllBytes(layout.resolve("blobs/sha256/" + d.hex()));
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b);
            });
        }

        private void serve(HttpExchange ex) throws IOException {
            try (ex) {
                String path = ex.getRequestURI().getPath();
                String last = path.substring(path.lastIndexOf('/') + 1);
                if (path.contains("/manifests/") && manifests.containsKey(last)) {
                    ex.getResponseHeaders().set("Content-Type", "application/vnd.oci.image.manifest.v1+json");
                    byte[] b = manifests.get(last);
                    ex.sendResponseHeaders(200, b.length);
                    ex.getResponseBody().write(b);
                } else if (path.contains("/blobs/") && blobs.containsKey(last)) {
                    blobs.get(last).send(ex);
                } else {
                    ex.sendResponseHeaders(404, -1);
                }
            } catch (IOException | InterruptedException e) {
                // the client hung up
            }
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    /** Sends the layer's first {@code fast} bytes at once, then {@code chunk} bytes every {@code everyMillis}. */
    private static HostileRegistry.Body dripping(Descriptor d, int fast, int chunk, long everyMillis) {
        return ex -> {
            byte[] b = Files.readAllBytes(layout.resolve("blobs/sha256/" + d.hex()));
            ex.sendResponseHeaders(200, b.length);
            OutputStream out = ex.getResponseBody();
            out.write(b, 0, fast);
            out.flush();
            for (int i = fast; i < b.length; i += chunk) {
                Thread.sleep(everyMillis);
                out.write(b, i, Math.min(chunk, b.length - i));
                out.flush();
            }
        };
    }

    private HostileRegistry withTheImage(HostileRegistry r, String tag) throws IOException {
        byte[] m = Files.readAllBytes(layout.resolve("blobs/sha256/" + image.manifestDigest().substring(7)));
        r.manifests.put(tag, m);
        r.blobFromLayout(image.config());
        r.blobFromLayout(image.layers().get(0));
        return r;
    }

    /** Finding 1: 2^62 + the other sizes wrapped round a long and passed the free-space check. */
    @Test
    void aLayerDeclaredAsTwoToTheSixtyTwoBytesIsRefusedBeforeAByteIsDownloaded() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        try (AutoCloseable mount = smallDataPartition(rig, 24); HostileRegistry hostile = new HostileRegistry()) {
            String config = new String(Files.readAllBytes(layout.resolve("blobs/sha256/" + image.config().hex())),
                    StandardCharsets.UTF_8);
            hostile.blobFromLayout(image.config());
            String endless = "sha256:" + "e".repeat(64);
            String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                    + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                    + image.config().digest() + "\",\"size\":" + config.length() + "},\"layers\":[{\"mediaType\":"
                    + "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + endless + "\",\"size\":"
                    + (1L << 62) + "}]}";
            hostile.manifests.put(V2, manifest.getBytes(StandardCharsets.UTF_8));
            hostile.blobs.put(endless, ex -> {
                ex.sendResponseHeaders(200, 0);
                byte[] zeros = new byte[64 * 1024];
                while (true) {
                    ex.getResponseBody().write(zeros);
                }
            });
            Run update = hupd("update", "--device", rig.deviceDir.toString(), "--target-version", V2,
                    "--image", hostile.ref(V2));
            assertEquals(1, update.code(), update.out() + update.err());
            assertTrue(update.err().startsWith("hupd: ") && update.err().contains("not enough free space"),
                    update.err());
            assertEquals(List.of(), partials(rig));
            assertTrue(Files.getFileStore(rig.sim.dataDir()).getUsableSpace() > (8 << 20));
            settlesOnTheOldOs(rig, "not enough free space");
        }
    }

    /** Finding 2: the user's application fills the data partition while the layer downloads. */
    @Test
    void theDataPartitionFillingUpDuringTheDownloadRevertsTheUpdate() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        try (AutoCloseable mount = smallDataPartition(rig, 24)) {
            Path appFile = rig.sim.dataDir().resolve("user/app-cache.bin");
            Progress userAppWrites = new Progress() {
                long seen;
                boolean filled;

                @Override
                public void start(String task, long totalBytes) {}

                @Override
                public void advance(long bytes) {
                    seen += bytes;
                    if (seen > (512 << 10) && !filled) {
                        filled = true;
                        try (OutputStream out = Files.newOutputStream(appFile)) {
                            byte[] b = new byte[64 * 1024];
                            while (true) {
                                out.write(b);
                            }
                        } catch (IOException full) {
                            // the partition is full: what the user's application did
                        }
                    }
                }

                @Override
                public void finish() {}
            };
            Device device = rig.sim.ports(Clock.SYSTEM, ImageSources.factory(RegistryOptions.DEFAULT
                    .withArchitecture("arm64")));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            UpdateService service = new UpdateService(device, rig.sim.dataDir(), MachineLimits.DEFAULT,
                    new UpdateLog(new PrintStream(out, true, StandardCharsets.UTF_8), userAppWrites),
                    new StepRegistry(device));
            UpdateState end = service.update(new UpdateRequest(V2, List.of(registry.ref(TAG)), null, true, true));
            String log = out.toString(StandardCharsets.UTF_8);
            assertEquals(UpdateState.FAILED, end, log);
            assertTrue(Files.size(appFile) > 0, "the user's file is kept");
            assertTrue(rig.trace().contains("FETCHING -FAILED-> REVERTING"), rig.trace().toString());
            assertTrue(device.supervisor().isRunning(), log);
            assertEquals(List.of(), partials(rig));
            // the partition stays full of the user's data: power-ons and status must work all the same
            settlesOnTheOldOs(rig, "the data partition is full");
        }
    }

    /** Finding 8: a layer that stops fails within a few low-speed windows, and status says what it waits for. */
    @Test
    void aStalledLayerFailsByTheLowSpeedLimitAndStatusSaysWhatTheUpdateWaitsFor() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        try (HostileRegistry hostile = withTheImage(new HostileRegistry(), V2)) {
            Descriptor layer = image.layers().get(0);
            hostile.blobs.put(layer.digest(), ex -> {
                byte[] b = Files.readAllBytes(layout.resolve("blobs/sha256/" + layer.hex()));
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b, 0, 256 << 10);
                ex.getResponseBody().flush();
                Thread.sleep(120_000);
            });
            Path log = tmp.resolve("update.out");
            Process update = start(log, "update", "--device", rig.deviceDir.toString(), "--target-version", V2,
                    "--image", hostile.ref(V2), "--registry-speed-limit", "1024", "--registry-speed-time", "6");
            String waiting = null;
            for (int i = 0; i < 120 && waiting == null && update.isAlive(); i++) {
                JsonNode s = hupd("status", "--device", rig.deviceDir.toString(), "--json").json();
                if (s.hasNonNull("waitingFor") && s.get("waitingFor").asText().contains("stalled")) {
                    waiting = s.get("waitingFor").asText();
                }
            }
            assertNotNull(waiting, "status never said what the update waits for");
            assertTrue(waiting.startsWith("downloading layer " + layer.digest() + " from " + hostile.ref(V2)),
                    waiting);
            assertTrue(update.waitFor(120, TimeUnit.SECONDS), "the stalled update did not end");
            Run r = ended(update, log);
            assertEquals(1, r.code(), r.out() + r.err());
            assertTrue(r.err().contains("stalled"), r.err());
            settlesOnTheOldOs(rig, "stalled");
        }
    }

    /** Finding 7: an abort against a slow download takes effect at once, and leaves no request behind. */
    @Test
    void anAbortDuringASlowDownloadRevertsTheUpdateAtOnce() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        try (HostileRegistry hostile = withTheImage(new HostileRegistry(), V2)) {
            Descriptor layer = image.layers().get(0);
            // ~20 KiB/s: above every stall limit, and minutes for the whole layer
            hostile.blobs.put(layer.digest(), dripping(layer, 64 << 10, 4096, 200));
            Path log = tmp.resolve("update.out");
            Process update = start(log, "update", "--device", rig.deviceDir.toString(), "--target-version", V2,
                    "--image", hostile.ref(V2));
            boolean downloading = false;
            for (int i = 0; i < 120 && !downloading && update.isAlive(); i++) {
                JsonNode s = hupd("status", "--device", rig.deviceDir.toString(), "--json").json();
                downloading = s.hasNonNull("waitingFor") && s.get("waitingFor").asText().contains(layer.digest());
            }
            assertTrue(downloading, "the download was never seen in status");
            Run abort = hupd("abort", "--device", rig.deviceDir.toString());
            assertEquals(0, abort.code(), abort.out() + abort.err());
            assertTrue(update.waitFor(60, TimeUnit.SECONDS), "the update went on after the abort");
            Run r = ended(update, log);
            assertEquals(1, r.code(), r.out() + r.err());
            assertFalse(Files.exists(rig.sim.dataDir().resolve("hupd/abort-request")));
            assertTrue(rig.trace().contains("FETCHING -ABORT-> REVERTING"), rig.trace().toString());
            settlesOnTheOldOs(rig, "aborted by the operator");
        }
    }
}
