package io.hupd.image.fsimage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.adapters.sim.SampleOs;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.fetch.OciLayoutSource;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.FsImages;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.ResolvedImage;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hupd image create --format ext4}: the same tree gives the same bytes, and the index describes them. */
class FsImageWriterTest {
    private static final ImageSpec SPEC = new ImageSpec("2.114.0", "raspberrypi4-64", "arm64", Optional.of("14.1.0"));

    @TempDir
    Path tmp;

    private Path tree(String name) throws Exception {
        Path root = tmp.resolve(name);
        SampleOs.writeRootfs(root, "2.114.0", "14.1.0", SampleOs.Flaw.NONE);
        byte[] data = new byte[700 * 1024];
        new Random(7).nextBytes(data);
        Files.write(Files.createDirectories(root.resolve("lib/firmware")).resolve("blob.bin"), data);
        return root;
    }

    @Test
    void twoBuildsOfTheSameTreeGiveTheSameBytesWhateverTheFileTimes() throws Exception {
        Path a = tree("a");
        Path b = tree("b");
        try (Stream<Path> files = Files.walk(b)) {
            for (Path p : files.toList()) {
                Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis() + 86_400_000L));
            }
        }
        ResolvedImage first = FsImageWriter.write(a, SPEC, tmp.resolve("one"), "fs", 0);
        ResolvedImage second = FsImageWriter.write(b, SPEC, tmp.resolve("two"), "fs", 0);
        assertEquals(first.manifestDigest(), second.manifestDigest());
        for (Descriptor d : first.blobs()) {
            assertArrayEquals(Files.readAllBytes(blob(tmp.resolve("one"), d)), Files.readAllBytes(blob(tmp.resolve("two"), d)),
                    d.mediaType());
        }
        // and a different tree does not
        Files.writeString(b.resolve("etc/hostname"), "changed\n");
        ResolvedImage third = FsImageWriter.write(b, SPEC, tmp.resolve("three"), "fs", 0);
        assertTrue(!third.layers().get(0).digest().equals(first.layers().get(0).digest()));
    }

    @Test
    void theLayerIsOneGzipStreamOfTheImageAndTheIndexTilesIt() throws Exception {
        Path layout = tmp.resolve("layout");
        ResolvedImage image = FsImageWriter.write(tree("t"), SPEC, layout, "fs", 32L << 20);
        FsImages.Layers layers = FsImages.layersOf(image).orElseThrow();
        ChunkIndex index = ChunkIndex.parse(Files.readAllBytes(blob(layout, layers.index())), layers.image().size(),
                "index");
        assertEquals(32L << 20, index.imageSize());
        assertEquals(Long.toString(32L << 20), image.labels().get(FsImages.SIZE_LABEL));
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        long n = 0;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(blob(layout, layers.image())))) {
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) {
                md.update(buf, 0, r);
                n += r;
            }
        }
        assertEquals(index.imageSize(), n);
        assertEquals(index.imageDigest(), "sha256:" + HexFormat.of().formatHex(md.digest()));
        List<ChunkIndex.Chunk> chunks = index.chunks();
        assertTrue(chunks.size() > 32 && chunks.stream().allMatch(c -> c.length() % Chunker.BLOCK == 0
                && c.length() <= Chunker.MAX_CHUNK), "chunks: " + chunks.size());
        // the layout reads back as an image of the filesystem kind
        ResolvedImage read = new OciLayoutSource(ImageReference.parse("oci:" + layout + ":fs")).resolve();
        assertTrue(FsImages.isFsImage(read));
    }

    /**
     * Debian's ca-certificates links /etc/ssl/certs/988a38cb.0 to a name with accents. The tar that mke2fs reads
     * names it in a pax header (UTF-8), which mke2fs's tar reader failed to convert under the C locale.
     */
    @Test
    void namesAndLinkTargetsBeyondAsciiArriveInTheImageAsTheyAre() throws Exception {
        Path root = tree("utf8");
        String name = "NetLock_Arany_=Class_Gold=_F\u0151tan\u00fas\u00edtv\u00e1ny.pem";
        Files.writeString(Files.createDirectories(root.resolve("etc/ssl/certs")).resolve(name), "cert\n");
        Files.createSymbolicLink(root.resolve("etc/ssl/certs/988a38cb.0"), Path.of(name));
        Path layout = tmp.resolve("utf8-layout");
        ResolvedImage image = FsImageWriter.write(root, SPEC, layout, "fs", 0);
        Path img = tmp.resolve("utf8.ext4");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(
                blob(layout, FsImages.layersOf(image).orElseThrow().image())))) {
            Files.copy(in, img);
        }
        Process p = new ProcessBuilder("debugfs", "-R", "stat /etc/ssl/certs/988a38cb.0", img.toString())
                .redirectErrorStream(true).start();
        String stat = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        p.waitFor();
        assertTrue(stat.contains("Fast link dest: \"" + name + "\""), stat);
    }

    private static Path blob(Path layout, Descriptor d) {
        return layout.resolve("blobs/sha256").resolve(d.hex());
    }
}
