package io.hupd.image.authoring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.fetch.OciLayoutSource;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.ImageSourceException;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.rootfs.FlattenLimits;
import io.hupd.image.rootfs.FlattenStats;
import io.hupd.image.rootfs.LayerFlattener;
import io.hupd.ports.Progress;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OciLayoutRoundTripTest {
    static final ImageSpec SPEC = new ImageSpec("2.115.3+rev1", "raspberrypi4-64", "arm64", Optional.of("14.11.2"));

    @TempDir
    Path tmp;

    /** A small OS-like tree with every kind of entry the writer and flattener must keep. */
    static Path sampleTree(Path dir) throws IOException {
        Path r = Files.createDirectories(dir);
        Files.createDirectories(r.resolve("etc/balena-supervisor"));
        Files.writeString(r.resolve("etc/os-release"), "NAME=\"Custom OS\"\nVERSION_ID=1.0.0\n");
        Files.writeString(r.resolve("etc/balena-supervisor/supervisor.conf"), "SUPERVISOR_IMAGE=balena/sup\n");
        Files.createDirectories(r.resolve("usr/bin"));
        Files.writeString(r.resolve("usr/bin/tool"), "#!/bin/sh\necho tool\n");
        Files.setAttribute(r.resolve("usr/bin/tool"), "unix:mode", 0755);
        Files.writeString(r.resolve("usr/bin/su"), "pretend setuid binary");
        Files.setAttribute(r.resolve("usr/bin/su"), "unix:mode", 04755);
        Files.writeString(r.resolve("usr/bin/wall"), "setgid");
        Files.setAttribute(r.resolve("usr/bin/wall"), "unix:gid", 5);
        Files.setAttribute(r.resolve("usr/bin/wall"), "unix:mode", 02755);
        Files.createLink(r.resolve("usr/bin/tool-alias"), r.resolve("usr/bin/tool"));
        Files.createSymbolicLink(r.resolve("usr/bin/sh"), Path.of("busybox"));
        Files.createSymbolicLink(r.resolve("etc/mtab"), Path.of("/nonexistent/mounts"));
        Files.createDirectories(r.resolve("home/user"));
        Files.writeString(r.resolve("home/user/.profile"), "export A=1\n");
        Files.setAttribute(r.resolve("home/user/.profile"), "unix:uid", 1000);
        Files.setAttribute(r.resolve("home/user/.profile"), "unix:gid", 1000);
        Files.setAttribute(r.resolve("home/user"), "unix:uid", 1000);
        Files.setAttribute(r.resolve("home/user"), "unix:mode", 0700);
        Files.createDirectories(r.resolve("tmp"));
        Files.setAttribute(r.resolve("tmp"), "unix:mode", 01777);
        Files.write(r.resolve("empty"), new byte[0]);
        Files.writeString(r.resolve("ünïcode name"), "utf-8 names");
        String longName = "a-very-long-file-name-".repeat(10) + "end";
        Path deep = Files.createDirectories(r.resolve("deep/" + "sub-directory-name/".repeat(14)));
        Files.writeString(deep.resolve(longName), "long");
        Files.createSymbolicLink(r.resolve("long-link"), Path.of("deep/" + "sub-directory-name/".repeat(14) + longName));
        Files.createDirectories(r.resolve("resin-boot"));
        Files.write(r.resolve("resin-boot/kernel.img"), new byte[70_000]);
        FileTime t = FileTime.from(Instant.parse("2024-05-01T12:00:00Z"));
        try (var s = Files.walk(r)) {
            for (Path p : s.toList()) {
                if (!Files.isSymbolicLink(p)) {
                    Files.setLastModifiedTime(p, t);
                }
            }
        }
        return r;
    }

    private Path flattenFromLayout(Path layout, String tag, Path store, Path out) throws IOException {
        OciLayoutSource source = new OciLayoutSource(ImageReference.parse("oci:" + layout + ":" + tag));
        ResolvedImage image = source.resolve();
        BlobStore blobs = new BlobStore(store);
        source.fetch(image, blobs, Progress.NONE);
        Files.createDirectories(out);
        LayerFlattener.flatten(image.layers().stream().map(d -> blobs.path(d.digest())).toList(),
                image.layers().stream().map(Descriptor::mediaType).toList(), out, FlattenLimits.DEFAULT);
        return out;
    }

    @Test
    void writtenImageResolvesFetchesAndFlattensToTheSameTree() throws IOException {
        Path rootfs = sampleTree(tmp.resolve("rootfs"));
        Map<String, String> before = Trees.describe(rootfs, true);
        Path layout = tmp.resolve("layout");

        ResolvedImage written = OciLayoutWriter.write(rootfs, SPEC, layout, "v1");

        assertEquals(before, Trees.describe(rootfs, true), "the source folder must not change");
        OciLayoutSource source = new OciLayoutSource(ImageReference.parse("oci:" + layout + ":v1"));
        ResolvedImage resolved = source.resolve();
        assertEquals(written, resolved);
        assertEquals("arm64", resolved.architecture());
        assertEquals("linux", resolved.os());
        assertEquals(Map.of("io.balena.device-type", "raspberrypi4-64",
                "org.opencontainers.image.version", "2.115.3+rev1"), resolved.labels());
        assertEquals(1, resolved.layers().size());

        BlobStore store = new BlobStore(tmp.resolve("store"));
        long copied = source.fetch(resolved, store, Progress.NONE);
        assertEquals(resolved.totalBytes(), copied);
        assertEquals(0, source.fetch(resolved, store, Progress.NONE), "a second fetch finds everything cached");

        Path out = Files.createDirectories(tmp.resolve("out"));
        FlattenStats stats = LayerFlattener.flatten(List.of(store.path(resolved.layers().get(0).digest())),
                List.of(resolved.layers().get(0).mediaType()), out, FlattenLimits.DEFAULT);
        assertTrue(stats.entries() > 20, "entries " + stats.entries());

        Map<String, String> expected = new TreeMap<>(before);
        Map<String, String> actual = new TreeMap<>(Trees.describe(out, true));
        for (String stamped : List.of("etc/os-release", "etc/balena-supervisor/supervisor.conf")) {
            assertEquals(expected.remove(stamped).replaceAll(" sha=\\w+", ""),
                    actual.remove(stamped).replaceAll(" sha=\\w+", ""), stamped + " keeps its attributes");
        }
        assertEquals(expected, actual);
        Object ino1 = Files.getAttribute(out.resolve("usr/bin/tool"), "unix:ino");
        Object ino2 = Files.getAttribute(out.resolve("usr/bin/tool-alias"), "unix:ino");
        assertEquals(ino1, ino2, "a hard link stays one inode");

        String osRelease = Files.readString(out.resolve("etc/os-release"));
        assertTrue(osRelease.startsWith("NAME=\"Custom OS\"\nVERSION_ID=1.0.0\n"), osRelease);
        assertTrue(osRelease.contains("\nID=balena-os\n"), osRelease);
        assertTrue(osRelease.contains("\nVERSION=2.115.3+rev1\n"), osRelease);
        assertTrue(osRelease.contains("\nBALENA_DEVICE_TYPE=raspberrypi4-64\n"), osRelease);
        assertEquals(1, osRelease.split("VERSION_ID=").length - 1, "existing fields are kept, not duplicated");
        assertEquals("SUPERVISOR_IMAGE=balena/sup\nSUPERVISOR_VERSION=14.11.2\n",
                Files.readString(out.resolve("etc/balena-supervisor/supervisor.conf")));
    }

    @Test
    void missingOsReleaseAndSupervisorConfAreCreated() throws IOException {
        Path rootfs = Files.createDirectories(tmp.resolve("bare"));
        Files.writeString(rootfs.resolve("hello"), "hi");
        OciLayoutWriter.write(rootfs, SPEC, tmp.resolve("layout"), "v1");
        Path out = flattenFromLayout(tmp.resolve("layout"), "v1", tmp.resolve("store"), tmp.resolve("out"));
        assertEquals("ID=balena-os\nNAME=balenaOS\nVERSION=2.115.3+rev1\nVERSION_ID=2.115.3+rev1\n"
                + "BALENA_DEVICE_TYPE=raspberrypi4-64\n", Files.readString(out.resolve("etc/os-release")));
        assertEquals("SUPERVISOR_VERSION=14.11.2\n",
                Files.readString(out.resolve("etc/balena-supervisor/supervisor.conf")));
        assertEquals(List.of("hello"), List.of(rootfs.toFile().list()), "source untouched");
    }

    @Test
    void osReleaseSymlinkIsFollowedInsideTheTreeNotOnTheHost() throws IOException {
        Path rootfs = Files.createDirectories(tmp.resolve("r"));
        Files.createDirectories(rootfs.resolve("etc"));
        Files.createDirectories(rootfs.resolve("usr/lib"));
        Files.writeString(rootfs.resolve("usr/lib/os-release"), "ID=balena-os\n");
        Files.createSymbolicLink(rootfs.resolve("etc/os-release"), Path.of("../usr/lib/os-release"));
        OciLayoutWriter.write(rootfs, new ImageSpec("3.0.0", "generic-amd64", "amd64", Optional.empty()),
                tmp.resolve("layout"), "v1");
        Path out = flattenFromLayout(tmp.resolve("layout"), "v1", tmp.resolve("store"), tmp.resolve("out"));
        assertTrue(Files.isSymbolicLink(out.resolve("etc/os-release")));
        assertEquals("ID=balena-os\nNAME=balenaOS\nVERSION=3.0.0\nVERSION_ID=3.0.0\n"
                + "BALENA_DEVICE_TYPE=generic-amd64\n", Files.readString(out.resolve("usr/lib/os-release")));
        assertTrue(Files.notExists(out.resolve("etc/balena-supervisor")), "no supervisor version, no file");
    }

    @Test
    void sameTreeGivesTheSameDigests() throws IOException {
        Path rootfs = sampleTree(tmp.resolve("rootfs"));
        ResolvedImage a = OciLayoutWriter.write(rootfs, SPEC, tmp.resolve("a"), "v1");
        ResolvedImage b = OciLayoutWriter.write(rootfs, SPEC, tmp.resolve("b"), "v1");
        assertEquals(a.manifestDigest(), b.manifestDigest());
        assertEquals(a.layers(), b.layers());
        assertArrayEquals(Files.readAllBytes(tmp.resolve("a/index.json")), Files.readAllBytes(tmp.resolve("b/index.json")));
    }

    @Test
    void otherTagsAreKeptAndTheSameTagIsReplaced() throws IOException {
        Path rootfs = Files.createDirectories(tmp.resolve("r"));
        Files.writeString(rootfs.resolve("f"), "1");
        Path layout = tmp.resolve("layout");
        ResolvedImage v1 = OciLayoutWriter.write(rootfs, SPEC, layout, "v1");
        ResolvedImage v2 = OciLayoutWriter.write(rootfs, new ImageSpec("2.116.0", "raspberrypi4-64", "arm64",
                Optional.empty()), layout, "v2");
        Files.writeString(rootfs.resolve("f"), "2");
        ResolvedImage v1b = OciLayoutWriter.write(rootfs, SPEC, layout, "v1");
        assertNotEquals(v1.manifestDigest(), v1b.manifestDigest());
        assertEquals(v1b.manifestDigest(), new OciLayoutSource(ImageReference.parse("oci:" + layout + ":v1")).resolve()
                .manifestDigest());
        assertEquals(v2.manifestDigest(), new OciLayoutSource(ImageReference.parse("oci:" + layout + ":v2")).resolve()
                .manifestDigest());
        String index = Files.readString(layout.resolve("index.json"));
        assertEquals(2, index.split("org.opencontainers.image.ref.name").length - 1, index);
    }

    @Test
    void badInputIsRefusedWithAClearMessage() throws IOException {
        Path rootfs = Files.createDirectories(tmp.resolve("r"));
        Path layout = tmp.resolve("layout");
        assertMessage("rootfs folder", () -> OciLayoutWriter.write(tmp.resolve("missing"), SPEC, layout, "v1"));
        assertMessage("bad version '2.x'", () -> OciLayoutWriter.write(rootfs,
                new ImageSpec("2.x", "raspberrypi4-64", "arm64", Optional.empty()), layout, "v1"));
        assertMessage("bad version '1.0.0\\n", () -> OciLayoutWriter.write(rootfs,
                new ImageSpec("1.0.0\nEVIL=1", "raspberrypi4-64", "arm64", Optional.empty()), layout, "v1"));
        assertMessage("bad device type", () -> OciLayoutWriter.write(rootfs,
                new ImageSpec("1.0.0", "Rasp Berry", "arm64", Optional.empty()), layout, "v1"));
        assertMessage("bad supervisor version", () -> OciLayoutWriter.write(rootfs,
                new ImageSpec("1.0.0", "rpi", "arm64", Optional.of("latest; rm")), layout, "v1"));
        assertMessage("bad tag", () -> OciLayoutWriter.write(rootfs, SPEC, layout, "../x"));
        Path notLayout = Files.createDirectories(tmp.resolve("notlayout"));
        Files.writeString(notLayout.resolve("precious"), "x");
        assertMessage("not an OCI image layout", () -> OciLayoutWriter.write(rootfs, SPEC, notLayout, "v1"));
        assertTrue(Files.notExists(layout), "nothing written for refused input");
        Files.createDirectories(layout);
        Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Files.writeString(layout.resolve("index.json"), "{garbage");
        ImageSourceException e = assertThrows(ImageSourceException.class,
                () -> OciLayoutWriter.write(rootfs, SPEC, layout, "v1"));
        assertTrue(e.getMessage().contains("index.json is not valid JSON"), e.getMessage());
        assertEquals("{garbage", Files.readString(layout.resolve("index.json")));
    }

    @Test
    void specialFilesInTheRootfsAreRefused() throws Exception {
        Path rootfs = Files.createDirectories(tmp.resolve("r"));
        Tools.run("mkfifo", rootfs.resolve("pipe").toString());
        assertMessage("is a device node, fifo or socket",
                () -> OciLayoutWriter.write(rootfs, SPEC, tmp.resolve("layout"), "v1"));
        assertTrue(Files.exists(rootfs.resolve("pipe"), LinkOption.NOFOLLOW_LINKS));
    }

    static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        UserInputException e = assertThrows(UserInputException.class, call);
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' lacks '" + expected + "'");
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
