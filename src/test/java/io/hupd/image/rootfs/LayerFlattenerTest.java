package io.hupd.image.rootfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.image.oci.MediaTypes;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerFlattenerTest {
    @TempDir
    Path tmp;

    private Path flatten(TarLayer... layers) throws IOException {
        List<Path> blobs = new ArrayList<>();
        List<String> types = new ArrayList<>();
        for (int i = 0; i < layers.length; i++) {
            blobs.add(layers[i].writeGzip(tmp.resolve("layers/" + i + ".tar.gz")));
            types.add(MediaTypes.OCI_LAYER_GZIP);
        }
        Path root = Files.createDirectories(tmp.resolve("root"));
        LayerFlattener.flatten(blobs, types, root, FlattenLimits.DEFAULT);
        return root;
    }

    /** Path → "file:content", "dir", or "link->target", for compact expectations. */
    private static Map<String, String> contents(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (var s = Files.walk(root)) {
            for (Path p : s.filter(p -> !p.equals(root)).toList()) {
                String rel = root.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    out.put(rel, "link->" + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p)) {
                    out.put(rel, "dir");
                } else {
                    out.put(rel, "file:" + Files.readString(p));
                }
            }
        }
        return out;
    }

    @Test
    void whiteoutsAndOpaqueDirectoriesHideOnlyLowerLayers() throws IOException {
        TarLayer lower = TarLayer.create()
                .dir("a").file("a/x", "x1").file("a/y", "y1")
                .dir("b").file("b/old", "old").dir("b/sub").file("b/sub/deep", "deep")
                .file("c", "c1")
                .dir("d").file("d/keep", "keep")
                .dir("e").dir("e/tree").file("e/tree/leaf", "leaf");
        TarLayer upper = TarLayer.create()
                .whiteout("a/.wh.x")
                .file("b/new", "new")
                .whiteout("b/.wh..wh..opq") // after the layer's own entry in b: must not delete it
                .whiteout(".wh.c")
                .dir("d/sub")
                .whiteout("e/.wh.tree")
                .whiteout("d/.wh.never-existed");
        Path root = flatten(lower, upper);
        assertEquals(Map.of(
                "a", "dir", "a/y", "file:y1",
                "b", "dir", "b/new", "file:new",
                "d", "dir", "d/keep", "file:keep", "d/sub", "dir",
                "e", "dir"), contents(root));
    }

    @Test
    void aWhiteoutAfterTheLayersOwnEntryHidesOnlyTheLowerOne() throws IOException {
        TarLayer lower = TarLayer.create().dir("a").file("a/x", "lower").dir("a/d").file("a/d/lower", "l");
        TarLayer upper = TarLayer.create()
                .file("a/x", "upper").whiteout("a/.wh.x")
                .file("a/d/upper", "u").whiteout("a/.wh.d");
        Path root = flatten(lower, upper);
        assertEquals(Map.of("a", "dir", "a/x", "file:upper", "a/d", "dir", "a/d/upper", "file:u"), contents(root));
    }

    @Test
    void opaqueFirstThenNewContent() throws IOException {
        TarLayer lower = TarLayer.create().dir("etc").file("etc/a", "a").file("etc/b", "b");
        TarLayer upper = TarLayer.create().dir("etc").whiteout("etc/.wh..wh..opq").file("etc/c", "c");
        assertEquals(Map.of("etc", "dir", "etc/c", "file:c"), contents(flatten(lower, upper)));
    }

    @Test
    void entriesReplaceWhateverWasThereWithoutWritingThroughIt() throws IOException {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("target"), "precious");
        TarLayer lower = TarLayer.create()
                .dir("was-dir").file("was-dir/child", "c")
                .file("was-file", "f")
                .symlink("was-link", outside.resolve("target").toString())
                .symlink("etc", outside.toString());
        TarLayer upper = TarLayer.create()
                .file("was-dir", "now a file")
                .dir("was-file")
                .file("was-link", "now a file")
                .dir("etc").file("etc/target", "inside");
        Path root = flatten(lower, upper);
        assertEquals(Map.of("was-dir", "file:now a file", "was-file", "dir", "was-link", "file:now a file",
                "etc", "dir", "etc/target", "file:inside"), contents(root));
        assertEquals("precious", Files.readString(outside.resolve("target")));
        assertEquals(List.of("target"), List.of(outside.toFile().list()));
    }

    @Test
    void hardLinksToLowerLayersAndAttributesAreKept() throws IOException {
        TarLayer lower = TarLayer.create().dir("bin", 0711).file("bin/busybox", "bb".getBytes(), 04755);
        TarLayer upper = TarLayer.create().hardlink("bin/ls", "bin/busybox").symlink("bin/sh", "busybox");
        Path root = flatten(lower, upper);
        assertEquals(Files.getAttribute(root.resolve("bin/busybox"), "unix:ino"),
                Files.getAttribute(root.resolve("bin/ls"), "unix:ino"));
        assertEquals(04755, (Integer) Files.getAttribute(root.resolve("bin/busybox"), "unix:mode") & 07777);
        assertEquals(0711, (Integer) Files.getAttribute(root.resolve("bin"), "unix:mode") & 07777);
        assertEquals(1_600_000_000L, Files.getLastModifiedTime(root.resolve("bin")).to(TimeUnit.SECONDS),
                "directory times are set after their children are written");
        assertEquals(Path.of("busybox"), Files.readSymbolicLink(root.resolve("bin/sh")));
    }

    @Test
    void ownersAreKeptAndSetBeforeTheMode() throws IOException {
        Path root = flatten(TarLayer.create().owned("owned", "x", 06750, 1000, 42));
        assertEquals(1000, Files.getAttribute(root.resolve("owned"), "unix:uid"));
        assertEquals(42, Files.getAttribute(root.resolve("owned"), "unix:gid"));
        assertEquals(06750, (Integer) Files.getAttribute(root.resolve("owned"), "unix:mode") & 07777,
                "chown clears setuid/setgid, so the mode must survive it");
    }

    @Test
    void plainTarLayersAreAcceptedAndZstdIsRefusedClearly() throws IOException {
        Path tar = TarLayer.create().file("a", "plain").writeTar(tmp.resolve("l.tar"));
        Path root = Files.createDirectories(tmp.resolve("root"));
        FlattenStats stats = LayerFlattener.flatten(List.of(tar), List.of(MediaTypes.OCI_LAYER_TAR), root,
                FlattenLimits.DEFAULT);
        assertEquals(new FlattenStats(1, 5), stats);
        Path root2 = Files.createDirectories(tmp.resolve("root2"));
        UserInputException e = assertThrows(UserInputException.class, () -> LayerFlattener.flatten(List.of(tar),
                List.of(MediaTypes.OCI_LAYER_ZSTD), root2, FlattenLimits.DEFAULT));
        assertTrue(e.getMessage().startsWith("layer 1: zstd-compressed layers are not supported"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LayerFlattener.flatten(List.of(tar),
                List.of(MediaTypes.OCI_LAYER_TAR), root, FlattenLimits.DEFAULT), "root must be empty");
    }

    @Test
    void corruptGzipIsACleanError() throws IOException {
        byte[] random = new byte[200_000];
        new java.util.Random(1).nextBytes(random);
        Path gz = TarLayer.create().file("a", random, 0644).writeGzip(tmp.resolve("l.tar.gz"));
        byte[] b = Files.readAllBytes(gz);
        Files.write(gz, java.util.Arrays.copyOf(b, b.length / 2));
        Path root = Files.createDirectories(tmp.resolve("root"));
        UserInputException e = assertThrows(UserInputException.class, () -> LayerFlattener.flatten(List.of(gz),
                List.of(MediaTypes.OCI_LAYER_GZIP), root, FlattenLimits.DEFAULT));
        assertTrue(e.getMessage().startsWith("layer 1 entry 'a': corrupt archive"), e.getMessage());
        Files.write(gz, new byte[] {1, 2, 3});
        Path root2 = Files.createDirectories(tmp.resolve("root2"));
        UserInputException notGzip = assertThrows(UserInputException.class, () -> LayerFlattener.flatten(List.of(gz),
                List.of(MediaTypes.OCI_LAYER_GZIP), root2, FlattenLimits.DEFAULT));
        assertTrue(notGzip.getMessage().startsWith("layer 1: not a gzip stream"), notGzip.getMessage());
    }

    @Test
    void fileTimesAreKept() throws IOException {
        Path root = flatten(TarLayer.create().file("f", "x"));
        assertEquals(FileTime.fromMillis(1_600_000_000_000L),
                Files.getLastModifiedTime(root.resolve("f"), LinkOption.NOFOLLOW_LINKS));
    }
}
