package io.hupd.image.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.image.authoring.DeltaCreator;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.delta.DeltaManifest;
import io.hupd.image.delta.DeltaMissingException;
import io.hupd.image.delta.DeltaNaming;
import io.hupd.image.delta.DeltaRepo;
import io.hupd.image.delta.Hashing;
import io.hupd.image.delta.PatchEncoder;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.ImageSourceException;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.registry.RegistryClient;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.ports.Progress;
import io.hupd.testkit.TestRig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The device's end against OCI layouts: a good delta, and one whose patch applies but makes other bytes. */
class DeltaSourceTest {
    @TempDir
    Path tmp;

    private static final ImageSourceFactory IMAGES = ImageSources.factory(RegistryOptions.DEFAULT);

    private static DeltaSource source(String delta, String target) {
        return new DeltaSource(delta, List.of(target), IMAGES, r -> new RegistryClient(r, RegistryOptions.DEFAULT),
                RegistryOptions.DEFAULT);
    }

    private String makeDelta(TestRig rig) throws IOException {
        String out = "oci:" + tmp.resolve("deltas") + ":" + TestRig.V2 + "-delta-from-" + TestRig.V1;
        new DeltaCreator(IMAGES, r -> new RegistryClient(r, RegistryOptions.DEFAULT), RegistryOptions.DEFAULT)
                .create(rig.ref(TestRig.V1), rig.ref(TestRig.V2), out, Progress.NONE);
        return out;
    }

    @Test
    void goodDeltaMakesTheTargetLayersFromTheCachedSource() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        String delta = makeDelta(rig);
        BlobStore store = new BlobStore(rig.ports().data().blobCache());
        DeltaSource s = source(delta, rig.ref(TestRig.V2));
        ResolvedImage image = s.resolve();
        ResolvedImage full = IMAGES.open(rig.ref(TestRig.V2)).resolve();
        assertEquals(full.manifestDigest(), image.manifestDigest());
        assertEquals(full.config(), image.config());
        long wire = s.fetch(image, store, Progress.NONE);
        assertTrue(wire > 0);
        for (Descriptor d : image.layers()) {
            store.verify(d);
        }
        assertEquals(List.of(), leftovers(store));
    }

    @Test
    void patchThatMakesOtherBytesIsRefusedAndLeavesNothing() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        String delta = makeDelta(rig);
        DeltaRepo repo = DeltaRepo.open(ImageReference.parse(delta), null, RegistryOptions.DEFAULT);
        DeltaManifest good = DeltaManifest.parse(repo.manifest(), "delta");
        // A well-formed patch from the same source that makes random bytes of the declared size.
        DeltaManifest.Patch p = good.patches().get(0);
        Path sourceTar = tmp.resolve("s.tar");
        BlobStore cache = new BlobStore(rig.ports().data().blobCache());
        ResolvedImage v1 = IMAGES.open(rig.ref(TestRig.V1)).resolve();
        DeltaCreator.uncompress(cache, v1.layers().get(0), p.sourceDiffId(), sourceTar, "v1");
        byte[] other = new byte[(int) p.targetSize()];
        new Random(1).nextBytes(other);
        Path otherTar = Files.write(tmp.resolve("o.tar"), other);
        ByteArrayOutputStream patch = new ByteArrayOutputStream();
        new PatchEncoder(6).encode(sourceTar, otherTar, patch);
        Path patchFile = Files.write(tmp.resolve("p.xz"), patch.toByteArray());
        Descriptor blob = new Descriptor(DeltaManifest.PATCH_TYPE, Hashing.sha256(patch.toByteArray()),
                patch.size());
        repo.putBlob(blob, patchFile);
        repo.putManifest(new DeltaManifest(good.targetManifest(), good.sourceManifest(), good.config(),
                List.of(new DeltaManifest.Patch(blob, p.targetDiffId(), p.targetSize(), p.sourceDiffId(),
                        p.sourceSize(), p.sourceDigest()))).toJson());

        DeltaSource s = source(delta, rig.ref(TestRig.V2));
        ResolvedImage image = s.resolve();
        ImageSourceException e = assertThrows(ImageSourceException.class,
                () -> s.fetch(image, cache, Progress.NONE));
        assertTrue(e.getMessage().contains("does not apply") && e.getMessage().contains("digest mismatch"),
                e.getMessage());
        assertFalse(cache.has(image.layers().get(0)));
        assertFalse(Files.exists(cache.path(blob.digest())), "patch left in the cache");
        assertFalse(Files.exists(cache.path(p.sourceDiffId())), "uncompressed source left in the cache");
        assertEquals(List.of(), leftovers(cache));
    }

    @Test
    void missingDeltaSaysSo() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        DeltaSource s = source(rig.ref(TestRig.V2) + "-delta-from-" + TestRig.V1, rig.ref(TestRig.V2));
        assertThrows(DeltaMissingException.class, s::resolve);
    }

    @Test
    void namingConvention() {
        assertEquals(Optional.of("docker://reg.example:5000/balena/hostos:2.114.0-delta-from-2.113.4_rev1"),
                DeltaNaming.next(List.of("docker://reg.example:5000/balena/hostos:2.114.0"), "2.113.4+rev1"));
        assertEquals(Optional.of("oci:/x/images:2.114.0-delta-from-2.113.4"),
                DeltaNaming.next(List.of("oci:/x/images:2.114.0"), "2.113.4"));
        assertEquals(Optional.empty(), DeltaNaming.next(List.of("docker://reg.example/hostos@sha256:"
                + "0".repeat(64)), "2.113.4"));
        assertEquals(Optional.empty(), DeltaNaming.next(List.of(), "2.113.4"));
        assertEquals(Optional.empty(), DeltaNaming.tag("t".repeat(120), "2.113.4"));
    }

    /** Blobs that are not the device's images: patches, uncompressed sources, temp files. */
    private static List<String> leftovers(BlobStore store) throws IOException {
        try (var files = Files.list(store.dir().resolve("blobs/sha256"))) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
        }
    }
}
