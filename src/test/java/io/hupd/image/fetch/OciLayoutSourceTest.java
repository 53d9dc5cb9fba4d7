package io.hupd.image.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.authoring.OciLayoutWriter;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.Digests;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.ImageSourceException;
import io.hupd.image.oci.MediaTypes;
import io.hupd.image.oci.OciJson;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.ports.Progress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** A layout is as untrusted as a registry: every broken piece must give a one-line ImageSourceException. */
class OciLayoutSourceTest {
    @TempDir
    Path tmp;
    Path layout;
    ResolvedImage image;

    @BeforeEach
    void writeImage() throws IOException {
        Path rootfs = Files.createDirectories(tmp.resolve("rootfs"));
        Files.writeString(rootfs.resolve("hello"), "hello");
        layout = tmp.resolve("layout");
        image = OciLayoutWriter.write(rootfs, new ImageSpec("2.0.0", "raspberrypi4-64", "arm64", Optional.empty()),
                layout, "v1");
    }

    private OciLayoutSource source(String tag) {
        return new OciLayoutSource(ImageReference.parse("oci:" + layout + ":" + tag));
    }

    private static void assertFails(String expected, Executable call) {
        ImageSourceException e = assertThrows(ImageSourceException.class, call);
        assertTrue(e.getMessage().contains(expected), "'" + e.getMessage() + "' lacks '" + expected + "'");
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertFalse(e.getMessage().contains("com.fasterxml"), "no parser internals: " + e.getMessage());
    }

    private Path blob(String digest) {
        return layout.resolve("blobs/sha256/" + digest.substring(7));
    }

    private Descriptor addBlob(String mediaType, String json) throws IOException {
        byte[] content = json.getBytes(StandardCharsets.UTF_8);
        Descriptor d = new Descriptor(mediaType, Digests.of(content), content.length);
        Files.write(blob(d.digest()), content);
        return d;
    }

    private void pointTag(String tag, Descriptor d) throws IOException {
        ObjectNode entry = OciJson.descriptorNode(d);
        entry.putObject("annotations").put(OciJson.REF_NAME, tag);
        ObjectNode index = (ObjectNode) OciJson.MAPPER.readTree(layout.resolve("index.json").toFile());
        ((ArrayNode) index.get("manifests")).add(entry);
        Files.write(layout.resolve("index.json"), OciJson.write(index));
    }

    private Descriptor manifestWith(String configDigestJson, String layersJson) throws IOException {
        return addBlob(MediaTypes.OCI_MANIFEST, "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST
                + "\",\"config\":" + configDigestJson + ",\"layers\":" + layersJson + "}");
    }

    private static String json(Descriptor d) {
        return OciJson.MAPPER.createObjectNode().setAll(OciJson.descriptorNode(d)).toString();
    }

    @Test
    void resolvesTheTaggedImage() throws IOException {
        ResolvedImage resolved = source("v1").resolve();
        assertEquals(image, resolved);
        assertEquals("oci:" + layout + ":v1", resolved.reference());
    }

    @Test
    void alteredManifestBlobIsRefused() throws IOException {
        byte[] m = Files.readAllBytes(blob(image.manifestDigest()));
        m[m.length - 2] = (byte) (m[m.length - 2] == ' ' ? '\t' : ' ');
        Files.write(blob(image.manifestDigest()), m);
        assertFails("manifest blob digest mismatch: expected " + image.manifestDigest(), () -> source("v1").resolve());
        Files.write(blob(image.manifestDigest()), new byte[] {'{', '}'});
        assertFails("has 2 bytes, the descriptor says", () -> source("v1").resolve());
    }

    @Test
    void missingConfigIsRefused() throws IOException {
        Files.delete(blob(image.config().digest()));
        assertFails("config blob " + image.config().digest() + " is missing", () -> source("v1").resolve());
    }

    @Test
    void brokenIndexJsonIsRefused() throws IOException {
        Path index = layout.resolve("index.json");
        String good = Files.readString(index);
        Files.writeString(index, "\u0000\u00ffgarbage");
        assertFails("index.json is not valid JSON", () -> source("v1").resolve());
        Files.writeString(index, good.substring(0, good.length() / 2));
        assertFails("index.json is not valid JSON", () -> source("v1").resolve());
        Files.writeString(index, good + "{}");
        assertFails("index.json is not valid JSON", () -> source("v1").resolve());
        Files.writeString(index, "");
        assertFails("index.json is empty", () -> source("v1").resolve());
        Files.writeString(index, "[1,2]");
        assertFails("is not a JSON object", () -> source("v1").resolve());
        Files.writeString(index, "{\"schemaVersion\":2,\"manifests\":\"v1\"}");
        assertFails("'manifests' is not an array", () -> source("v1").resolve());
        Files.writeString(index, "{\"schemaVersion\":2,\"manifests\":[{\"annotations\":{\""
                + OciJson.REF_NAME + "\":\"v1\"},\"digest\":\"sha256:1234\",\"size\":1,\"mediaType\":\"a/b\"}]}");
        assertFails("bad digest 'sha256:1234'", () -> source("v1").resolve());
        Files.writeString(index, "{\"schemaVersion\":2,\"schemaVersion\":2,\"manifests\":[]}");
        assertFails("Duplicate field 'schemaVersion'", () -> source("v1").resolve());
        Files.writeString(index, "[".repeat(10_000));
        assertFails("index.json is not valid JSON", () -> source("v1").resolve());
        Files.writeString(index, "{\"pad\":\"" + "x".repeat(5 * 1024 * 1024) + "\"}");
        assertFails("larger than 4194304 bytes", () -> source("v1").resolve());
        Files.delete(index);
        assertFails("is not an OCI image layout (no index.json)", () -> source("v1").resolve());
    }

    @Test
    void missingTagOrLayoutIsRefused() {
        assertFails("tag 'v9' not found in " + layout + " (tags: v1)", () -> source("v9").resolve());
        assertFails("does not exist", () -> new OciLayoutSource(ImageReference.parse("oci:" + tmp.resolve("nope")))
                .resolve());
    }

    @Test
    void ambiguousTagIsRefused() throws IOException {
        Descriptor other = manifestWith(json(image.config()), "[" + json(image.layers().get(0)) + "]");
        pointTag("v1", other);
        assertFails("tag 'v1' names 2 different manifests", () -> source("v1").resolve());
    }

    @Test
    void malformedManifestsAndConfigsAreRefused() throws IOException {
        pointTag("layers-string", manifestWith(json(image.config()), "\"x\""));
        assertFails("'layers' is not an array", () -> source("layers-string").resolve());
        pointTag("no-layers", manifestWith(json(image.config()), "[]"));
        assertFails("has no layers", () -> source("no-layers").resolve());
        pointTag("size-string", manifestWith("{\"mediaType\":\"" + MediaTypes.OCI_CONFIG + "\",\"digest\":\""
                + image.config().digest() + "\",\"size\":\"12\"}", "[" + json(image.layers().get(0)) + "]"));
        assertFails("'size' is not a non-negative integer", () -> source("size-string").resolve());
        Descriptor zstd = new Descriptor(MediaTypes.OCI_LAYER_ZSTD, image.layers().get(0).digest(),
                image.layers().get(0).size());
        pointTag("zstd", manifestWith(json(image.config()), "[" + json(zstd) + "]"));
        assertFails("zstd-compressed layers are not supported", () -> source("zstd").resolve());
        Descriptor hugeConfig = new Descriptor(MediaTypes.OCI_CONFIG, image.config().digest(), 1L << 40);
        pointTag("huge", manifestWith(json(hugeConfig), "[" + json(image.layers().get(0)) + "]"));
        assertFails("more than the 4194304 allowed", () -> source("huge").resolve());
        Descriptor badConfig = addBlob(MediaTypes.OCI_CONFIG, "{\"architecture\":64,\"os\":\"linux\"}");
        pointTag("arch-number", manifestWith(json(badConfig), "[" + json(image.layers().get(0)) + "]"));
        assertFails("'architecture' is not a string", () -> source("arch-number").resolve());
        Descriptor badLabels = addBlob(MediaTypes.OCI_CONFIG,
                "{\"architecture\":\"arm64\",\"os\":\"linux\",\"config\":{\"Labels\":{\"a\":[1]}}}");
        pointTag("labels", manifestWith(json(badLabels), "[" + json(image.layers().get(0)) + "]"));
        assertFails("'Labels.a' is not a string", () -> source("labels").resolve());
        Descriptor wrongKind = new Descriptor("application/vnd.example.thing", image.manifestDigest(), 10);
        pointTag("kind", wrongKind);
        assertFails("points to unsupported media type", () -> source("kind").resolve());
    }

    @Test
    void imageIndexPicksTheOnlyLinuxImageAndRefusesAmbiguity() throws IOException {
        Descriptor manifest = new Descriptor(MediaTypes.OCI_MANIFEST, image.manifestDigest(),
                Files.size(blob(image.manifestDigest())));
        String one = "{\"schemaVersion\":2,\"manifests\":[" + entry(manifest, "linux", "arm64") + ","
                + entry(manifest, "unknown", "unknown") + "]}";
        pointTag("single", addBlob(MediaTypes.OCI_INDEX, one));
        assertEquals(image.manifestDigest(), source("single").resolve().manifestDigest());

        String two = "{\"schemaVersion\":2,\"manifests\":[" + entry(manifest, "linux", "arm64") + ","
                + entry(manifest, "linux", "amd64") + "]}";
        pointTag("multi", addBlob(MediaTypes.OCI_INDEX, two));
        assertFails("has 2 candidate images for an unknown architecture; refusing to guess"
                + " (it has linux/arm64, linux/amd64)", () -> source("multi").resolve());
        OciLayoutSource arm = new OciLayoutSource(ImageReference.parse("oci:" + layout + ":multi"), "arm64");
        assertEquals(image.manifestDigest(), arm.resolve().manifestDigest());
        // the same words as from a registry (RegistrySourceTest): the index's platforms are listed
        OciLayoutSource riscv = new OciLayoutSource(ImageReference.parse("oci:" + layout + ":multi"), "riscv64");
        assertFails("has no linux image for riscv64 (it has linux/arm64, linux/amd64)", riscv::resolve);
    }

    @Test
    void aHugeIndexIsListedShortInTheError() throws IOException {
        Descriptor manifest = new Descriptor(MediaTypes.OCI_MANIFEST, image.manifestDigest(),
                Files.size(blob(image.manifestDigest())));
        StringBuilder entries = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            entries.append(i == 0 ? "" : ",").append(entry(manifest, "linux", "mips" + i));
        }
        pointTag("many", addBlob(MediaTypes.OCI_INDEX, "{\"schemaVersion\":2,\"manifests\":[" + entries + "]}"));
        OciLayoutSource arm = new OciLayoutSource(ImageReference.parse("oci:" + layout + ":many"), "arm64");
        assertFails("has no linux image for arm64 (it has linux/mips0, linux/mips1, linux/mips2, linux/mips3,"
                + " linux/mips4, linux/mips5, linux/mips6, linux/mips7, linux/mips8, linux/mips9 and 2 more)",
                arm::resolve);
    }

    private static String entry(Descriptor d, String os, String arch) {
        ObjectNode n = OciJson.descriptorNode(d);
        n.putObject("platform").put("os", os).put("architecture", arch);
        return n.toString();
    }

    @Test
    void corruptLayerIsRefusedWhileFetchingAndNotStored() throws IOException {
        Path layer = blob(image.layers().get(0).digest());
        byte[] b = Files.readAllBytes(layer);
        b[b.length / 2] ^= 1;
        Files.write(layer, b);
        ResolvedImage resolved = source("v1").resolve();
        BlobStore store = new BlobStore(tmp.resolve("store"));
        assertFails("blob digest mismatch: expected " + image.layers().get(0).digest(),
                () -> source("v1").fetch(resolved, store, Progress.NONE));
        assertFalse(store.has(image.layers().get(0)));
        Files.write(layer, new byte[3]);
        assertFails("in the layout has 3 bytes", () -> source("v1").fetch(resolved, store, Progress.NONE));
    }

    @Test
    void aCorruptCachedBlobIsFetchedAgain() throws IOException {
        ResolvedImage resolved = source("v1").resolve();
        BlobStore store = new BlobStore(tmp.resolve("store"));
        source("v1").fetch(resolved, store, Progress.NONE);
        Descriptor layer = resolved.layers().get(0);
        byte[] b = Files.readAllBytes(store.path(layer.digest()));
        b[0] ^= 1;
        Files.write(store.path(layer.digest()), b);
        assertEquals(layer.size(), source("v1").fetch(resolved, store, Progress.NONE));
        store.verify(layer);
    }
}
