package io.hupd.image.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.authoring.OciLayoutWriter;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.Digests;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.ImageSourceException;
import io.hupd.image.oci.MediaTypes;
import io.hupd.image.oci.OciJson;
import io.hupd.image.oci.ResolvedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18 finding 9: what a source says about a document that is not JSON (never its bytes) and about an index
 * whose only entry is another index (not "it has none").
 */
class ManifestMessagesTest {
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

    private Descriptor addBlob(String mediaType, byte[] content) throws IOException {
        Descriptor d = new Descriptor(mediaType, Digests.of(content), content.length);
        Files.write(layout.resolve("blobs/sha256/" + d.digest().substring(7)), content);
        return d;
    }

    private void pointTag(String tag, Descriptor d) throws IOException {
        ObjectNode entry = OciJson.descriptorNode(d);
        entry.putObject("annotations").put(OciJson.REF_NAME, tag);
        ObjectNode index = (ObjectNode) OciJson.MAPPER.readTree(layout.resolve("index.json").toFile());
        ((ArrayNode) index.get("manifests")).add(entry);
        Files.write(layout.resolve("index.json"), OciJson.write(index));
    }

    private String failure(String tag) {
        OciLayoutSource s = new OciLayoutSource(ImageReference.parse("oci:" + layout + ":" + tag), "arm64");
        String m = assertThrows(ImageSourceException.class, s::resolve).getMessage();
        assertFalse(m.contains("\n"), m);
        return m;
    }

    @Test
    void aManifestThatIsNotJsonIsReportedWithoutItsBytes() throws IOException {
        byte[] html = "<html><body>Welcome to nginx! café</body></html>".getBytes(StandardCharsets.UTF_8);
        pointTag("html", addBlob(MediaTypes.OCI_MANIFEST, html));
        String m = failure("html");
        assertTrue(m.endsWith("is not valid JSON (at line 1, column 1): it looks like an HTML or XML page"), m);
        assertFalse(m.contains("Welcome") || m.contains("<"), m);

        byte[] binary = {0x1f, (byte) 0x8b, 8, 0, 'P', 'K', 3, 4, 's', 'e', 'c', 'r', 'e', 't'};
        pointTag("binary", addBlob(MediaTypes.OCI_MANIFEST, binary));
        m = failure("binary");
        assertTrue(m.contains("is not valid JSON (at line 1, column "), m);
        assertFalse(m.contains("secret") || m.contains("CTRL-CHAR"), m);

        byte[] word = "Unauthorized: log in first".getBytes(StandardCharsets.UTF_8);
        pointTag("word", addBlob(MediaTypes.OCI_MANIFEST, word));
        m = failure("word");
        assertFalse(m.contains("Unauthorized"), m);
    }

    @Test
    void anIndexHoldingOnlyAnIndexSaysSo() throws IOException {
        Descriptor manifest = new Descriptor(MediaTypes.OCI_MANIFEST, image.manifestDigest(),
                Files.size(layout.resolve("blobs/sha256/" + image.manifestDigest().substring(7))));
        ObjectNode leaf = OciJson.MAPPER.createObjectNode().put("schemaVersion", 2)
                .put("mediaType", MediaTypes.OCI_INDEX);
        ObjectNode leafEntry = OciJson.descriptorNode(manifest);
        leafEntry.putObject("platform").put("os", "linux").put("architecture", "arm64");
        leaf.putArray("manifests").add(leafEntry);
        Descriptor inner = addBlob(MediaTypes.OCI_INDEX, OciJson.write(leaf));
        ObjectNode middle = OciJson.MAPPER.createObjectNode().put("schemaVersion", 2)
                .put("mediaType", MediaTypes.OCI_INDEX);
        middle.putArray("manifests").add(OciJson.descriptorNode(inner));
        pointTag("nested", addBlob(MediaTypes.OCI_INDEX, OciJson.write(middle)));
        String m = failure("nested");
        assertFalse(m.contains("it has none"), m);
        assertTrue(m.contains("has no linux image for arm64 (it has an image index inside it, which hupd does not"
                + " follow: give the inner index's digest as the reference)"), m);
        // pointed at, the inner index resolves
        pointTag("inner", inner);
        assertEquals(image.manifestDigest(), new OciLayoutSource(ImageReference.parse("oci:" + layout + ":inner"),
                "arm64").resolve().manifestDigest());
    }
}
