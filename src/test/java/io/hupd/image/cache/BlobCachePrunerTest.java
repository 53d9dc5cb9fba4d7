package io.hupd.image.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.image.fetch.ResumableDownload;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.Digests;
import io.hupd.image.oci.MediaTypes;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.ports.Progress;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache rule of docs/registry.md, on a cache holding two OS images, partial downloads and leftovers. */
class BlobCachePrunerTest {
    @TempDir
    Path tmp;
    Path cache;
    BlobStore store;
    BlobCachePruner pruner;
    ResolvedImage running;
    ResolvedImage target;
    /** An image of an earlier update that neither runs nor is the target. */
    ResolvedImage other;

    @BeforeEach
    void setUp() throws IOException {
        cache = tmp.resolve("cache");
        store = new BlobStore(cache);
        pruner = new BlobCachePruner(cache);
        running = image("running");
        target = image("target");
        other = image("other");
        for (ResolvedImage i : List.of(running, target, other)) {
            for (Descriptor d : i.blobs()) {
                store.put(d, new ByteArrayInputStream(content(d)), Progress.NONE);
            }
        }
        // the target's layer half downloaded, and so is one of another image's
        Files.write(ResumableDownload.partialPath(store, target.layers().get(1)), new byte[] {1, 2});
        Files.write(ResumableDownload.partialPath(store, other.layers().get(1)), new byte[] {3});
        Files.write(shaDir().resolve(".tmp-" + target.layers().get(0).hex() + "-1f"), new byte[] {4});
        Files.write(cache.resolve(".empty-42"), new byte[0]);
        Files.writeString(shaDir().resolve("README"), "not hupd's: left alone\n");
    }

    private static final Map<String, byte[]> CONTENTS = new java.util.HashMap<>();

    private static byte[] content(Descriptor d) {
        return CONTENTS.get(d.digest());
    }

    private static Descriptor blob(String mediaType, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        Descriptor d = new Descriptor(mediaType, Digests.of(b), b.length);
        CONTENTS.put(d.digest(), b);
        return d;
    }

    private static ResolvedImage image(String name) {
        return new ResolvedImage("oci:images:" + name, Digests.of(name.getBytes(StandardCharsets.UTF_8)),
                blob(MediaTypes.OCI_CONFIG, name + " config"), List.of(blob(MediaTypes.OCI_LAYER_GZIP, name
                + " layer 1"), blob(MediaTypes.OCI_LAYER_GZIP, name + " layer 2")), "arm64", "linux", Map.of());
    }

    private Path shaDir() {
        return cache.resolve("blobs/sha256");
    }

    private Set<String> files() throws IOException {
        try (Stream<Path> s = Files.list(shaDir())) {
            Set<String> names = new TreeSet<>();
            s.forEach(p -> names.add(p.getFileName().toString()));
            if (Files.exists(cache.resolve(".empty-42"))) {
                names.add("../.empty-42");
            }
            return names;
        }
    }

    private static Set<String> names(ResolvedImage... images) {
        Set<String> out = new TreeSet<>();
        for (ResolvedImage i : images) {
            i.blobs().forEach(d -> out.add(d.hex()));
        }
        out.add("README");
        return out;
    }

    private static String partial(ResolvedImage i) {
        return ".partial-" + i.layers().get(1).hex();
    }

    @Test
    void afterACommitOnlyTheNewRunningImageStays() throws IOException {
        BlobCachePruner.Result r = pruner.afterCommit(target);
        assertEquals(names(target), files());
        assertEquals(6, r.blobs());
        assertEquals(2, r.partials());
        assertEquals(2, r.leftovers());
        assertTrue(r.bytesFreed() > 0);

        // Run again after a crash, with the work folder (and the image in it) gone: the record decides.
        store.put(other.config(), new ByteArrayInputStream(content(other.config())), Progress.NONE);
        pruner.afterCommit(null);
        assertEquals(names(target), files());
    }

    @Test
    void afterARevertTheTargetAndItsPartialDownloadStayForARetry() throws IOException {
        pruner.record(running);
        pruner.afterRevert(target);
        Set<String> expected = names(running, target);
        expected.add(partial(target));
        assertEquals(expected, files());
    }

    @Test
    void afterARollbackOnlyTheRunningImageStays() throws IOException {
        pruner.record(running);
        BlobCachePruner.Result r = pruner.afterRollback(target);
        assertEquals(names(running), files());
        assertEquals(2, r.partials());
    }

    @Test
    void withoutARecordOfTheRunningImageNoBlobThatMayBeItsIsRemoved() throws IOException {
        BlobCachePruner.Result revert = pruner.afterRevert(target);
        Set<String> expected = names(running, target, other);
        expected.add(partial(target));
        assertEquals(expected, files());
        assertTrue(revert.notes().toString().contains("not recorded"), revert.notes().toString());

        pruner.afterRollback(target);
        assertEquals(names(running, other), files());
    }

    @Test
    void anUpdateThatPinnedNoImageOnlyLosesTemporaryFiles() throws IOException {
        pruner.record(running);
        pruner.afterRevert(null);
        Set<String> expected = names(running, target, other);
        expected.add(partial(target));
        expected.add(partial(other));
        assertEquals(expected, files());
    }

    @Test
    void aDamagedRecordIsNoRecord() throws IOException {
        Files.writeString(cache.resolve(BlobCachePruner.RECORD), "{\"blobs\":[\"sha256:../../etc\"]}");
        BlobCachePruner.Result r = pruner.afterRollback(target);
        assertEquals(names(running, other), files());
        assertTrue(r.notes().toString().contains("not a sha256 digest"), r.notes().toString());
    }
}
