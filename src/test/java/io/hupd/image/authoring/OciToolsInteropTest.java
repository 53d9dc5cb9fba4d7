package io.hupd.image.authoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import com.fasterxml.jackson.databind.JsonNode;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.fetch.OciLayoutSource;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.OciJson;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.rootfs.FlattenLimits;
import io.hupd.image.rootfs.LayerFlattener;
import io.hupd.ports.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What our writer produces must be readable by the real OCI tools, and what they produce by our reader. */
class OciToolsInteropTest {
    @TempDir
    Path tmp;

    @Test
    void umociUnpacksWhatTheWriterWrote() throws IOException {
        Tools.require("umoci");
        Path rootfs = OciLayoutRoundTripTest.sampleTree(tmp.resolve("rootfs"));
        Path layout = tmp.resolve("layout");
        OciLayoutWriter.write(rootfs, OciLayoutRoundTripTest.SPEC, layout, "v1");
        Path out = tmp.resolve("umoci-out");
        Tools.run("umoci", "raw", "unpack", "--image", layout + ":v1", out.toString());

        Map<String, String> expected = new TreeMap<>(Trees.describe(rootfs, true));
        Map<String, String> actual = new TreeMap<>(Trees.describe(out, true));
        for (String stamped : List.of("etc/os-release", "etc/balena-supervisor/supervisor.conf")) {
            assertEquals(expected.remove(stamped).replaceAll(" sha=\\w+", ""),
                    actual.remove(stamped).replaceAll(" sha=\\w+", ""));
        }
        assertEquals(expected, actual);
        assertTrue(Files.readString(out.resolve("etc/os-release")).contains("VERSION_ID=1.0.0\n"));
    }

    @Test
    void skopeoInspectsWhatTheWriterWrote() throws IOException {
        Tools.require("skopeo");
        Path rootfs = OciLayoutRoundTripTest.sampleTree(tmp.resolve("rootfs"));
        Path layout = tmp.resolve("layout");
        ResolvedImage image = OciLayoutWriter.write(rootfs, OciLayoutRoundTripTest.SPEC, layout, "v1");
        OciLayoutWriter.write(rootfs, OciLayoutRoundTripTest.SPEC, layout, "other");

        JsonNode inspect = OciJson.MAPPER.readTree(Tools.run("skopeo", "inspect", "oci:" + layout + ":v1").out());
        assertEquals(image.manifestDigest(), inspect.get("Digest").asText());
        assertEquals("arm64", inspect.get("Architecture").asText());
        assertEquals("linux", inspect.get("Os").asText());
        assertEquals("raspberrypi4-64", inspect.get("Labels").get("io.balena.device-type").asText());
        assertEquals(image.layers().get(0).digest(), inspect.get("Layers").get(0).asText());
    }

    @Test
    void aLayoutBuiltByUmociIsResolvedAndFlattened() throws IOException {
        Tools.require("umoci");
        Path rootfs = OciLayoutRoundTripTest.sampleTree(tmp.resolve("rootfs"));
        Path layout = tmp.resolve("umoci-layout");
        Tools.run("umoci", "init", "--layout", layout.toString());
        Tools.run("umoci", "new", "--image", layout + ":base");
        Tools.run("umoci", "insert", "--image", layout + ":base", "--tag", "v1", rootfs.toString(), "/");
        Tools.run("umoci", "config", "--image", layout + ":v1", "--architecture", "arm64",
                "--config.label", "io.balena.device-type=raspberrypi4-64");
        // a second layer that deletes a file and makes a folder opaque, written by umoci itself
        Path bundle = tmp.resolve("bundle");
        Tools.run("umoci", "unpack", "--image", layout + ":v1", bundle.toString());
        Files.delete(bundle.resolve("rootfs/empty"));
        try (var s = Files.list(bundle.resolve("rootfs/resin-boot"))) {
            for (Path p : s.toList()) {
                Files.delete(p);
            }
        }
        Files.writeString(bundle.resolve("rootfs/resin-boot/new.img"), "new");
        // umoci rounds sub-second times to the nearest second; whole seconds keep the comparison exact
        Files.setLastModifiedTime(bundle.resolve("rootfs/resin-boot/new.img"),
                java.nio.file.attribute.FileTime.fromMillis(1_700_000_000_000L));
        Tools.run("umoci", "repack", "--image", layout + ":v2", bundle.toString());

        OciLayoutSource source = new OciLayoutSource(ImageReference.parse("oci:" + layout + ":v2"));
        ResolvedImage image = source.resolve();
        assertEquals("arm64", image.architecture());
        assertEquals("raspberrypi4-64", image.labels().get("io.balena.device-type"));
        assertEquals(2, image.layers().size());
        BlobStore store = new BlobStore(tmp.resolve("store"));
        assertEquals(image.totalBytes(), source.fetch(image, store, Progress.NONE));
        Path out = Files.createDirectories(tmp.resolve("out"));
        LayerFlattener.flatten(image.layers().stream().map(d -> store.path(d.digest())).toList(),
                image.layers().stream().map(Descriptor::mediaType).toList(), out, FlattenLimits.DEFAULT);

        Map<String, String> expected = new TreeMap<>(Trees.describe(bundle.resolve("rootfs"), false));
        Map<String, String> actual = new TreeMap<>(Trees.describe(out, false));
        assertEquals(expected, actual);
        assertTrue(Files.notExists(out.resolve("empty")));
        assertTrue(Files.notExists(out.resolve("resin-boot/kernel.img")));
        assertEquals("new", Files.readString(out.resolve("resin-boot/new.img")));
    }
}
