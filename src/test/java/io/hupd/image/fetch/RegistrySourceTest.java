package io.hupd.image.fetch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.ImageSourceException;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.registry.FakeRegistry;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.ports.Progress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A docker:// source against an in-JVM registry that can be made to misbehave. */
class RegistrySourceTest {
    private static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    private static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    private static final String GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
    private static final RegistryOptions FAST = RegistryOptions.DEFAULT
            .withRetries(3, Duration.ofMillis(5), Duration.ofMillis(20)).withArchitecture("arm64");

    private final FakeRegistry registry = new FakeRegistry();
    @TempDir
    Path tmp;

    RegistrySourceTest() throws Exception {}

    @AfterEach
    void stop() {
        registry.close();
    }

    /** An image for {@code arch}: a config and one layer of random bytes; returns the manifest JSON. */
    private String image(String arch, byte[] layer, String layerExtra) {
        byte[] config = ("{\"architecture\":\"" + arch + "\",\"os\":\"linux\",\"config\":{\"Labels\":"
                + "{\"io.balena.device-type\":\"raspberrypi4-64\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:"
                + "0".repeat(64) + "\"]}}").getBytes(StandardCharsets.UTF_8);
        String configDigest = registry.putBlob(config);
        String layerDigest = registry.putBlob(layer);
        return "{\"schemaVersion\":2,\"mediaType\":\"" + OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + configDigest + "\",\"size\":"
                + config.length + "},\"layers\":[{\"mediaType\":\"" + GZIP_LAYER + "\",\"digest\":\"" + layerDigest
                + "\",\"size\":" + layer.length + layerExtra + "}]}";
    }

    private static byte[] random(int n, int seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private ImageSource open(ImageSourceFactory f, String repoTag) {
        return f.open("docker://" + registry.address() + "/" + repoTag);
    }

    private long fetch(ImageSource s, ResolvedImage img, BlobStore store) throws Exception {
        return s.fetch(img, store, Progress.NONE);
    }

    @Test
    void anIndexGivesTheImageForTheDevicesArchitecture() throws Exception {
        String amd = registry.putManifest(null, OCI_MANIFEST, image("amd64", random(100, 1), ""));
        String arm = registry.putManifest(null, OCI_MANIFEST, image("arm64", random(100, 2), ""));
        String index = "{\"schemaVersion\":2,\"mediaType\":\"" + OCI_INDEX + "\",\"manifests\":["
                + entry(amd, "amd64") + "," + entry(arm, "arm64") + "]}";
        registry.putManifest("multi", OCI_INDEX, index);

        ResolvedImage img = open(ImageSources.factory(FAST), "os:multi").resolve();
        assertEquals(arm, img.manifestDigest());
        assertEquals("arm64", img.architecture());

        ImageSourceException ambiguous = assertThrows(ImageSourceException.class,
                () -> open(ImageSources.factory(FAST.withArchitecture(null)), "os:multi").resolve());
        assertTrue(ambiguous.getMessage().endsWith("has 2 candidate images for an unknown architecture;"
                + " refusing to guess (it has linux/amd64, linux/arm64)"), ambiguous.getMessage());
        ImageSourceException none = assertThrows(ImageSourceException.class,
                () -> open(ImageSources.factory(FAST.withArchitecture("riscv64")), "os:multi").resolve());
        assertTrue(none.getMessage().contains("no linux image for riscv64 (it has linux/amd64, linux/arm64)"),
                none.getMessage());
    }

    private String entry(String digest, String arch) {
        byte[] m = registry.manifests.get(digest);
        return "{\"mediaType\":\"" + OCI_MANIFEST + "\",\"digest\":\"" + digest + "\",\"size\":" + m.length
                + ",\"platform\":{\"os\":\"linux\",\"architecture\":\"" + arch + "\"}}";
    }

    @Test
    void dockerManifestsAreReadToo() throws Exception {
        String docker = image("arm64", random(50, 3), "")
                .replace(OCI_MANIFEST, "application/vnd.docker.distribution.manifest.v2+json")
                .replace("application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json")
                .replace(GZIP_LAYER, "application/vnd.docker.image.rootfs.diff.tar.gzip");
        registry.putManifest("v1", "application/vnd.docker.distribution.manifest.v2+json", docker);
        ResolvedImage img = open(ImageSources.factory(FAST), "os:v1").resolve();
        assertEquals("raspberrypi4-64", img.labels().get("io.balena.device-type"));
        assertTrue(registry.log.get(0).startsWith("GET /v2/os/manifests/v1"));
    }

    /**
     * Issue 18 finding 8: a layer whose every request brings a few bytes and then drips. Each cut brought "some
     * progress", so the download was resumed up to a hundred times; a try below the low-speed limit now counts
     * as one without progress, and the fetch gives up after the usual number of tries.
     */
    @Test
    void aLayerThatDripsOnEveryResumeGivesUpAfterTheTriesNotAHundredResumes() throws Exception {
        byte[] layer = random(200_000, 9);
        registry.putManifest("v1", OCI_MANIFEST, image("arm64", layer, ""));
        String layerDigest = FakeRegistry.sha256(layer);
        java.util.concurrent.atomic.AtomicInteger layerRequests = new java.util.concurrent.atomic.AtomicInteger();
        registry.hook = ex -> {
            if (!ex.getRequestURI().getPath().endsWith(layerDigest)) {
                return false;
            }
            layerRequests.incrementAndGet();
            String range = ex.getRequestHeaders().getFirst("Range");
            int from = range == null ? 0 : Integer.parseInt(range.replaceAll("bytes=([0-9]+)-", "$1"));
            if (from > 0) {
                ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (layer.length - 1) + "/"
                        + layer.length);
            }
            ex.sendResponseHeaders(from > 0 ? 206 : 200, layer.length - from);
            var out = ex.getResponseBody();
            try {
                for (int i = from; i < layer.length; i++) {
                    out.write(layer[i]);
                    out.flush();
                    Thread.sleep(25);
                }
            } catch (InterruptedException | IOException e) {
                // cut by the client
            }
            return true;
        };
        RegistryOptions o = FAST.withRetries(3, Duration.ofMillis(1), Duration.ofMillis(1))
                .withLowSpeedLimit(100, Duration.ofMillis(300));
        ImageSource source = open(ImageSources.factory(o), "os:v1");
        ResolvedImage img = source.resolve();
        BlobStore store = new BlobStore(tmp.resolve("cache"));
        ImageSourceException e = assertThrows(ImageSourceException.class, () -> fetch(source, img, store));
        assertTrue(e.getMessage().contains("stalled") && e.getMessage().contains("3 tries without progress"),
                e.getMessage());
        assertTrue(layerRequests.get() <= 3, layerRequests + " requests for the layer");
    }

    @Test
    void theTagIsReadOnceAndThenPinned() throws Exception {
        registry.putManifest("v1", OCI_MANIFEST, image("arm64", random(50, 4), ""));
        ImageSourceFactory process = ImageSources.factory(FAST);
        ResolvedImage first = open(process, "os:v1").resolve();
        registry.putManifest("v1", OCI_MANIFEST, image("arm64", random(50, 5), ""));
        assertEquals(first.manifestDigest(), open(process, "os:v1").resolve().manifestDigest(),
                "a tag moved mid-update does not change what this update installs");
        assertFalse(first.manifestDigest().equals(open(ImageSources.factory(FAST), "os:v1").resolve()
                .manifestDigest()), "a new process reads the tag again");
    }

    @Test
    void theConfigReadWhileResolvingIsNotDownloadedAgain() throws Exception {
        registry.putManifest("v1", OCI_MANIFEST, image("arm64", random(500, 6), ""));
        ImageSource s = open(ImageSources.factory(FAST), "os:v1");
        ResolvedImage img = s.resolve();
        BlobStore store = new BlobStore(tmp.resolve("cache"));
        fetch(s, img, store);
        for (Descriptor d : img.blobs()) {
            assertTrue(store.has(d), d.digest());
            store.verify(d);
            assertEquals(1, registry.log.stream().filter(l -> l.contains("/blobs/" + d.digest())).count(),
                    registry.log.toString());
        }
    }

    @Test
    void aManifestAskedForByDigestMustHaveThatDigest() {
        registry.putManifest("v1", OCI_MANIFEST, image("arm64", random(50, 6), ""));
        String other = "sha256:" + "1".repeat(64);
        registry.manifests.put(other, registry.manifests.get("v1"));
        registry.manifestTypes.put(other, OCI_MANIFEST);
        ImageSourceException e = assertThrows(ImageSourceException.class,
                () -> open(ImageSources.factory(FAST), "os@" + other).resolve());
        assertTrue(e.getMessage().contains("digest mismatch: asked for " + other), e.getMessage());
    }

    @Test
    void descriptorUrlsAreNeverFollowed() throws Exception {
        try (FakeRegistry elsewhere = new FakeRegistry()) {
            byte[] layer = random(300, 7);
            registry.putManifest("v1", OCI_MANIFEST, image("arm64", layer,
                    ",\"urls\":[\"http://" + elsewhere.address() + "/layer\"]"));
            ImageSource s = open(ImageSources.factory(FAST), "os:v1");
            ResolvedImage img = s.resolve();
            BlobStore store = new BlobStore(tmp.resolve("cache"));
            fetch(s, img, store);
            assertArrayEquals(layer, Files.readAllBytes(store.path(img.layers().get(0).digest())));
            assertEquals(0, elsewhere.log.size(), "the foreign URL was not contacted");
        }
    }

    @Test
    void aBlobLongerThanDeclaredIsRefusedAndNothingIsKept() throws Exception {
        byte[] layer = random(1000, 8);
        registry.putManifest("v1", OCI_MANIFEST, image("arm64", layer, ""));
        ImageSource s = open(ImageSources.factory(FAST), "os:v1");
        ResolvedImage img = s.resolve();
        Descriptor d = img.layers().get(0);
        byte[] longer = new byte[layer.length + 500];
        System.arraycopy(layer, 0, longer, 0, layer.length);
        registry.blobs.put(d.digest(), longer);
        BlobStore store = new BlobStore(tmp.resolve("cache"));
        ImageSourceException e = assertThrows(ImageSourceException.class, () -> fetch(s, img, store));
        assertTrue(e.getMessage().contains("larger than its declared size 1000"), e.getMessage());
        assertFalse(store.has(d));
        try (var files = Files.list(store.path(d.digest()).getParent())) {
            assertEquals(0, files.filter(p -> p.getFileName().toString().contains(d.hex())).count());
        }
    }

    /** A body cut after some bytes is continued with a Range request in the same process; the digest spans both. */
    @Test
    void aCutAfterSomeBytesIsContinuedWhereItStoppedAndTheBlobIsRight() throws Exception {
        byte[] layer = random(1_500_000, 13);
        registry.putManifest("v1", OCI_MANIFEST, image("arm64", layer, ""));
        ImageSource s = open(ImageSources.factory(FAST), "os:v1");
        ResolvedImage img = s.resolve();
        Descriptor d = img.layers().get(0);
        java.util.concurrent.atomic.AtomicBoolean cut = new java.util.concurrent.atomic.AtomicBoolean();
        registry.hook = ex -> {
            if (ex.getRequestURI().getPath().endsWith(d.digest()) && ex.getRequestHeaders().getFirst("Range") == null
                    && cut.compareAndSet(false, true)) {
                ex.sendResponseHeaders(200, layer.length);
                ex.getResponseBody().write(layer, 0, 700_000);
                ex.getResponseBody().flush();
                return true; // the exchange is closed with bytes missing: the connection is cut
            }
            return false;
        };
        BlobStore store = new BlobStore(tmp.resolve("cache"));
        long wire = fetch(s, img, store);
        assertTrue(registry.log.stream().anyMatch(l -> l.contains(d.digest()) && l.contains("range=bytes=")),
                registry.log.toString());
        assertEquals(img.totalBytes(), wire);
        assertArrayEquals(layer, Files.readAllBytes(store.path(d.digest())));
    }

    /** Bytes of the right length but the wrong content: the digest refuses them. */
    @Test
    void aBlobWithWrongContentIsRefusedAndNeverGetsItsDigestName() throws Exception {
        byte[] layer = random(900_000, 14);
        registry.putManifest("v1", OCI_MANIFEST, image("arm64", layer, ""));
        ImageSource s = open(ImageSources.factory(FAST), "os:v1");
        ResolvedImage img = s.resolve();
        Descriptor d = img.layers().get(0);
        byte[] wrong = layer.clone();
        wrong[wrong.length - 1] ^= 1;
        registry.blobs.put(d.digest(), wrong);
        BlobStore store = new BlobStore(tmp.resolve("cache"));
        ImageSourceException e = assertThrows(ImageSourceException.class, () -> fetch(s, img, store));
        assertTrue(e.getMessage().contains("blob digest mismatch"), e.getMessage());
        assertFalse(store.has(d));
        assertFalse(Files.exists(store.path(d.digest())));
    }

    @Test
    void aRegistryThatIgnoresRangeGivesTheWholeBlobAgainAndItIsStillRight() throws Exception {
        byte[] layer = random(200_000, 9);
        registry.putManifest("v1", OCI_MANIFEST, image("arm64", layer, ""));
        ImageSource s = open(ImageSources.factory(FAST), "os:v1");
        ResolvedImage img = s.resolve();
        BlobStore store = new BlobStore(tmp.resolve("cache"));
        Descriptor d = img.layers().get(0);
        leavePartialDownload(store, d, java.util.Arrays.copyOf(layer, 70_000));
        registry.honourRange = false;

        long wire = fetch(s, img, store);
        assertTrue(registry.log.stream().anyMatch(l -> l.contains("range=bytes=70000-")), registry.log.toString());
        assertEquals(img.totalBytes(), wire);
        assertArrayEquals(layer, Files.readAllBytes(store.path(d.digest())));
    }

    @Test
    void keptBytesThatAreWrongCostOneFreshDownloadNotTheSource() throws Exception {
        byte[] layer = random(100_000, 10);
        registry.putManifest("v1", OCI_MANIFEST, image("arm64", layer, ""));
        ImageSource s = open(ImageSources.factory(FAST), "os:v1");
        ResolvedImage img = s.resolve();
        BlobStore store = new BlobStore(tmp.resolve("cache"));
        Descriptor d = img.layers().get(0);
        leavePartialDownload(store, d, new byte[40_000]);

        long wire = fetch(s, img, store);
        assertEquals(img.config().size() + (layer.length - 40_000) + layer.length, wire);
        assertArrayEquals(layer, Files.readAllBytes(store.path(d.digest())));
    }

    @Test
    void aPartialAnswerFromTheWrongOffsetIsRefused() throws Exception {
        byte[] layer = random(50_000, 11);
        registry.putManifest("v1", OCI_MANIFEST, image("arm64", layer, ""));
        ImageSource s = open(ImageSources.factory(FAST), "os:v1");
        ResolvedImage img = s.resolve();
        BlobStore store = new BlobStore(tmp.resolve("cache"));
        Descriptor d = img.layers().get(0);
        leavePartialDownload(store, d, java.util.Arrays.copyOf(layer, 10_000));
        registry.hook = ex -> {
            if (ex.getRequestHeaders().getFirst("Range") != null) {
                ex.getResponseHeaders().set("Content-Range", "bytes 5000-49999/50000");
                FakeRegistry.send(ex, 206, java.util.Arrays.copyOfRange(layer, 5000, layer.length));
                return true;
            }
            return false;
        };
        ImageSourceException e = assertThrows(ImageSourceException.class, () -> fetch(s, img, store));
        assertTrue(e.getMessage().contains("from byte 10000 but the registry sent it from byte 5000"),
                e.getMessage());
    }

    @Test
    void aCutWithoutProgressIsRetriedABoundedNumberOfTimes() throws Exception {
        byte[] layer = random(10_000, 12);
        registry.putManifest("v1", OCI_MANIFEST, image("arm64", layer, ""));
        ImageSource s = open(ImageSources.factory(FAST), "os:v1");
        ResolvedImage img = s.resolve();
        Descriptor d = img.layers().get(0);
        registry.hook = ex -> {
            if (ex.getRequestURI().getPath().endsWith(d.digest())) {
                ex.sendResponseHeaders(200, layer.length);
                ex.getResponseBody().close();
                return true;
            }
            return false;
        };
        ImageSourceException e = assertThrows(ImageSourceException.class,
                () -> fetch(s, img, new BlobStore(tmp.resolve("cache"))));
        assertTrue(e.getMessage().contains("gave up after 3 tries without progress"), e.getMessage());
        // 3 answered requests; a pooled connection the server dropped may add a few quick re-sends, but bounded.
        long requests = registry.log.stream().filter(l -> l.contains(d.digest())).count();
        assertTrue(requests >= 3 && requests <= 3 * 3, registry.log.toString());
    }

    @Test
    void aSchemaOneManifestIsRefusedWithAHint() {
        registry.putManifest("old", "application/vnd.docker.distribution.manifest.v1+prettyjws",
                "{\"schemaVersion\":1,\"name\":\"os\"}");
        ImageSourceException e = assertThrows(ImageSourceException.class,
                () -> open(ImageSources.factory(FAST), "os:old").resolve());
        assertTrue(e.getMessage().contains("Docker schema 1 manifest, which is not supported"), e.getMessage());
    }

    /** What an interrupted download leaves in the cache for the next run to resume from. */
    private static void leavePartialDownload(BlobStore store, Descriptor d, byte[] kept) throws IOException {
        Path partial = store.path(d.digest()).resolveSibling(".partial-" + d.hex());
        Files.createDirectories(partial.getParent());
        Files.write(partial, kept);
    }
}
