package io.hupd.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The check-only pass over a layer: its skeleton, its sizes, and what keeps mke2fs from reading it as it is. */
class LayerSurveyTest {
    @TempDir
    Path tmp;
    int n;

    private LayerFlattener.Survey survey(TarLayer layer) throws IOException {
        n++;
        Path blob = layer.writeGzip(tmp.resolve("layer" + n + ".tar.gz"));
        Path root = Files.createDirectories(tmp.resolve("root" + n));
        return LayerFlattener.survey(() -> Files.newInputStream(blob), MediaTypes.OCI_LAYER_GZIP, root,
                FlattenLimits.DEFAULT, p -> p.equals("etc/os-release"));
    }

    private Path root() {
        return tmp.resolve("root" + n);
    }

    @Test
    void aPlainLayerGoesAsItIsAndOnlyTheKeptFilesHaveContent() throws IOException {
        LayerFlattener.Survey s = survey(TarLayer.create().dir("./").dir("etc").file("etc/os-release", "VERSION_ID=1\n")
                .dir("usr").file("usr/big", new byte[5000], 0755).hardlink("usr/big2", "usr/big")
                .symlink("usr/link", "big"));
        assertNull(s.whyNotAsIs());
        assertEquals(13 + 5000 + 5000, s.treeBytes(), "a hard-linked file counts once per name");
        assertEquals(13 + 5000, s.stats().bytes());
        assertEquals("VERSION_ID=1\n", Files.readString(root().resolve("etc/os-release")));
        assertEquals(0, Files.size(root().resolve("usr/big")), "the skeleton has no content");
        assertTrue(Files.isSymbolicLink(root().resolve("usr/link")));
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
