package io.hupd.image.rootfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.fs.Trees;
import io.hupd.image.oci.MediaTypes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The check-only pass over a layer: the tree it notes, its sizes, and what keeps mke2fs from reading it as it is. */
class LayerSurveyTest {
    @TempDir
    Path tmp;
    int n;

    private Path blob(TarLayer layer) throws IOException {
        n++;
        return layer.writeGzip(tmp.resolve("layer" + n + ".tar.gz"));
    }

    private LayerFlattener.Survey survey(TarLayer layer) throws IOException {
        Path blob = blob(layer);
        return LayerFlattener.survey(() -> Files.newInputStream(blob), MediaTypes.OCI_LAYER_GZIP,
                FlattenLimits.DEFAULT, p -> p.equals("etc/os-release"), 64);
    }

    @Test
    void aPlainLayerGoesAsItIsAndOnlyTheKeptFilesHaveContent() throws IOException {
        LayerFlattener.Survey s = survey(TarLayer.create().dir("./").dir("etc").file("etc/os-release", "VERSION_ID=1\n")
                .dir("usr").file("usr/big", new byte[5000], 0755).hardlink("usr/big2", "usr/big")
                .symlink("usr/link", "big"));
        assertNull(s.whyNotAsIs());
        assertEquals(13 + 5000 + 5000, s.treeBytes(), "a hard-linked file counts once per name");
        assertEquals(13 + 5000, s.stats().bytes());
        assertEquals("VERSION_ID=1\n", new String(s.kept().get("etc/os-release"), StandardCharsets.UTF_8));
        assertEquals(Set.of("etc/os-release"), s.kept().keySet(), "only the kept file's content");
        assertEquals(Map.of("etc/os-release", 13L, "usr/big", 5000L, "usr/big2", 5000L), s.fileSizes());
        assertEquals(Set.of("", "etc", "usr"), s.directories());
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(tmp.resolve("layer" + n + ".tar.gz")), files.toList(), "nothing written");
        }
    }

    @Test
    void aKeptFileIsCutJustAfterTheLimit() throws IOException {
        LayerFlattener.Survey s = survey(TarLayer.create().dir("etc").file("etc/os-release", "x".repeat(1000)));
        assertEquals(65, s.kept().get("etc/os-release").length, "the limit and one byte to tell it was larger");
        assertEquals(1000L, s.fileSizes().get("etc/os-release"));
    }

    /**
     * The survey's tree is the one flattening writes on disk, for layers that replace, link and nest: the same
     * folders and the same files with the same sizes.
     */
    @Test
    void theSurveySeesTheTreeFlatteningWrites() throws IOException {
        List<TarLayer> layers = List.of(
                TarLayer.create().dir("./").dir("etc").file("etc/os-release", "VERSION_ID=1\n").dir("usr")
                        .dir("usr/lib").file("usr/lib/a.so.1", new byte[3000], 0755).symlink("usr/lib/a.so", "a.so.1")
                        .hardlink("usr/a-again", "usr/lib/a.so.1").dir("resin-boot").file("resin-boot/config.txt", "x")
                        .dir("resin-boot/overlays").file("resin-boot/overlays/o.dtbo", new byte[700], 0644),
                TarLayer.create().file("a/b/c", "entry before its folders").dir("a").symlink("l", "a/b")
                        .hardlink("a/h", "a/b/c"),
                TarLayer.create().dir("d").file("d/.wh.gone", "").file("d/kept", "k").dir("e")
                        .file("e/.wh..wh..opq", ""));
        for (TarLayer layer : layers) {
            Path blob = blob(layer);
            LayerFlattener.Survey s = LayerFlattener.survey(() -> Files.newInputStream(blob),
                    MediaTypes.OCI_LAYER_GZIP, FlattenLimits.DEFAULT, p -> false, 0);
            Path root = Files.createDirectories(tmp.resolve("flat" + n));
            LayerFlattener.flatten(List.of(blob), List.of(MediaTypes.OCI_LAYER_GZIP), root, FlattenLimits.DEFAULT);
            Map<String, Long> files = new TreeMap<>();
            Set<String> dirs = new TreeSet<>();
            try (Stream<Path> walk = Files.walk(root)) {
                for (Path p : (Iterable<Path>) walk::iterator) {
                    String rel = root.relativize(p).toString();
                    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        dirs.add(rel);
                    } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        files.put(rel, Files.size(p));
                    }
                }
            }
            assertEquals(files, new TreeMap<>(s.fileSizes()), "layer " + n);
            assertEquals(dirs, new TreeSet<>(s.directories()), "layer " + n);
            assertEquals(Trees.size(root), s.treeBytes(), "layer " + n);
        }
    }

    /**
     * A whiteout of a folder the layer made looks through that folder only: 60,000 of them in a layer of 120,000
     * entries, each a scan of the whole tree, was a survey of over a minute (a hostile layer's way to stall an
     * update; 40,000 took 30 s against 2.9 s now). The limit is generous so that a loaded machine does not fail it.
     */
    @Test
    void whiteoutsOfFoldersCostTheirSubtreesNotTheWholeTree() throws IOException {
        TarLayer layer = TarLayer.create();
        for (int i = 0; i < 60_000; i++) {
            layer.dir("d" + i);
        }
        for (int i = 0; i < 60_000; i++) {
            layer.whiteout(".wh.d" + i);
        }
        LayerFlattener.Survey s = assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> survey(layer));
        assertEquals("whiteouts", s.whyNotAsIs());
        assertEquals(60_001, s.directories().size());
    }

    @Test
    void whiteoutsAreNotForMke2fs() throws IOException {
        assertEquals("whiteouts", survey(TarLayer.create().dir("a").whiteout("a/.wh.gone")).whyNotAsIs());
        assertEquals("whiteouts", survey(TarLayer.create().dir("a").whiteout("a/.wh..wh..opq")).whyNotAsIs());
    }

    @Test
    void anEntryBeforeItsFolderIsNotForMke2fs() throws IOException {
        assertEquals("entries that come before their folder's entry",
                survey(TarLayer.create().file("a/b", "x").dir("a")).whyNotAsIs());
    }

    @Test
    void namesNotInPlainFormAreNotForMke2fs() throws IOException {
        assertTrue(survey(TarLayer.create().dir("a").file("a//b", "x")).whyNotAsIs().startsWith("entry names"));
        assertTrue(survey(TarLayer.create().dir("a").file("a/./b", "x")).whyNotAsIs().startsWith("entry names"));
        assertNull(survey(TarLayer.create().dir("./a").file("./a/b", "x")).whyNotAsIs());
        assertNull(survey(TarLayer.create().dir("/").dir("a").file("a/b", "x")).whyNotAsIs(), "umoci's root");
        assertNull(survey(TarLayer.create().file("f", "x").hardlink("g", "./f")).whyNotAsIs());
        assertTrue(survey(TarLayer.create().dir("a").file("a/f", "x").hardlink("g", "a//f")).whyNotAsIs()
                .startsWith("hard link targets"));
    }

    @Test
    void extendedAttributesAreNotForMke2fs() throws IOException {
        TarLayer layer = TarLayer.create().file("ping", "x");
        layer.lastHeader().addPaxHeader("SCHILY.xattr.security.capability", "caps");
        assertEquals("extended attributes", survey(layer).whyNotAsIs());
    }

    @Test
    void aKeptFileThatIsAHardLinkToAnotherIsNotForMke2fs() throws IOException {
        String why = survey(TarLayer.create().file("os", "VERSION_ID=1\n").dir("etc").hardlink("etc/os-release", "os"))
                .whyNotAsIs();
        assertTrue(why.startsWith("a file the checks read is a hard link"), why);
    }
}
