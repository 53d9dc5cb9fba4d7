package io.hupd.image.fetch;

import io.hupd.image.cache.BlobStore;
import io.hupd.image.delta.DeltaLayers;
import io.hupd.image.delta.DeltaManifest;
import io.hupd.image.delta.DeltaRepo;
import io.hupd.image.delta.Hashing;
import io.hupd.image.delta.PatchInputStream;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.ImageSourceException;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.registry.RegistryClient;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.ports.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The device's end of a delta (SPEC §3 step 4a). It only ever yields the image the operator named: the target
 * is resolved from the {@code --image} sources (manifest and config, a few KB) and the delta must say it makes
 * exactly that manifest and carry exactly its config. The image it yields has the target's uncompressed layers
 * (digest = the config's {@code diff_ids}), which {@link #fetch} rebuilds from the running OS's layer in the
 * data partition's cache and the patches; the blob store checks each against its digest before it gets a name,
 * so nothing unverified reaches the slot writer. Any failure throws with a one-line reason, and the update falls
 * through to the full image.
 */
public final class DeltaSource implements ImageSource {
    private final ImageReference ref;
    private final List<String> targets;
    private final ImageSourceFactory images;
    private final Function<String, RegistryClient> clients;
    private final RegistryOptions options;

    public DeltaSource(String reference, List<String> targets, ImageSourceFactory images,
            Function<String, RegistryClient> clients, RegistryOptions options) {
        this.ref = ImageReference.parse(reference);
        this.targets = List.copyOf(targets);
        this.images = images;
        this.clients = clients;
        this.options = options;
    }

    @Override
    public String reference() {
        return ref.toString();
    }

    private DeltaRepo repo() {
        return DeltaRepo.open(ref, clients, options);
    }

    @Override
    public ResolvedImage resolve() throws IOException {
        // The delta first: when there is none (the usual case for a conventional name) nothing else is asked.
        DeltaManifest delta = DeltaManifest.parse(repo().manifest(), ref + ": manifest");
        ResolvedImage target = resolveTarget();
        check(delta, target);
        List<String> diffIds = diffIds(repo(), delta);
        if (delta.patches().size() != target.layers().size() || diffIds.size() != target.layers().size()) {
            throw new ImageSourceException(ref + ": the delta has " + delta.patches().size()
                    + " patches for an image of " + target.layers().size() + " layers");
        }
        List<Descriptor> layers = new ArrayList<>();
        for (int i = 0; i < delta.patches().size(); i++) {
            DeltaManifest.Patch p = delta.patches().get(i);
            if (!p.targetDiffId().equals(diffIds.get(i))) {
                throw new ImageSourceException(ref + ": patch " + (i + 1) + " makes " + p.targetDiffId()
                        + " but the target's layer " + (i + 1) + " is " + diffIds.get(i));
            }
            layers.add(p.target());
        }
        return new ResolvedImage(ref.toString(), target.manifestDigest(), target.config(), layers,
                target.architecture(), target.os(), target.labels());
    }

    /** The first image source that answers says what the target is. */
    private ResolvedImage resolveTarget() throws IOException {
        List<String> problems = new ArrayList<>();
        for (String t : targets) {
            try {
                return images.open(t).resolve();
            } catch (IOException | RuntimeException e) {
                String m = String.valueOf(e.getMessage());
                problems.add(m.startsWith(t + ":") ? m : t + ": " + m);
            }
        }
        throw new ImageSourceException(ref + ": cannot confirm what the delta makes: "
                + (problems.isEmpty() ? "no --image names the target" : "no image source answers ("
                        + String.join("; ", problems) + ")"));
    }

    private void check(DeltaManifest delta, ResolvedImage target) throws IOException {
        if (!delta.targetManifest().equals(target.manifestDigest())) {
            throw new ImageSourceException(ref + ": the delta makes image " + delta.targetManifest()
                    + ", not the target " + target.manifestDigest() + " (" + target.reference() + ")");
        }
        if (!delta.config().equals(target.config())) {
            throw new ImageSourceException(ref + ": the delta's config " + delta.config().digest()
                    + " is not the target's " + target.config().digest());
        }
    }

    private List<String> diffIds(DeltaRepo repo, DeltaManifest delta) throws IOException {
        Descriptor config = delta.config();
        if (config.size() > DeltaRepo.MAX_MANIFEST) {
            throw new ImageSourceException(ref + ": config " + config.digest() + " is too large");
        }
        byte[] body;
        try (InputStream in = repo.blob(config)) {
            body = in.readNBytes((int) config.size() + 1);
        }
        if (body.length != config.size() || !Hashing.sha256(body).equals(config.digest())) {
            throw new ImageSourceException(ref + ": config " + config.digest() + " does not match its digest");
        }
        var json = DeltaManifest.JSON.readTree(body).path("rootfs").path("diff_ids");
        List<String> out = new ArrayList<>();
        for (var id : json) {
            out.add(id.asText(""));
        }
        return out;
    }

    @Override
    public long fetch(ResolvedImage image, BlobStore store, Progress progress) throws IOException {
        DeltaRepo repo = repo();
        DeltaManifest delta = DeltaManifest.parse(repo.manifest(), ref + ": manifest");
        if (!delta.targetManifest().equals(image.manifestDigest()) || !delta.config().equals(image.config())
                || delta.patches().size() != image.layers().size()) {
            throw new ImageSourceException(ref + ": the delta changed since it was resolved; it no longer makes "
                    + image.manifestDigest());
        }
        long wire = 0;
        if (!store.has(image.config())) {
            try (InputStream in = repo.blob(image.config())) {
                wire += store.put(image.config(), in, Progress.NONE);
            }
        }
        for (int i = 0; i < delta.patches().size(); i++) {
            DeltaManifest.Patch p = delta.patches().get(i);
            Descriptor target = image.layers().get(i);
            if (!p.target().equals(target)) {
                throw new ImageSourceException(ref + ": patch " + (i + 1) + " makes " + p.targetDiffId()
                        + ", the pinned image wants " + target.digest());
            }
            if (store.has(target)) {
                try {
                    store.verify(target);
                    continue;
                } catch (ImageSourceException e) {
                    // verify() deleted the bad copy: make it again
                }
            }
            wire += apply(repo, p, store, progress);
        }
        return wire;
    }

    /** Fetches one patch and applies it; returns the bytes fetched. Leaves no patch or temp file behind. */
    private long apply(DeltaRepo repo, DeltaManifest.Patch p, BlobStore store, Progress progress)
            throws IOException {
        SourceLayer source = sourceLayer(p, store);
        long wire = 0;
        try {
            if (!store.has(p.blob())) {
                progress.start("download " + ref, p.blob().size());
                try (InputStream in = repo.blob(p.blob())) {
                    wire = store.put(p.blob(), in, progress);
                } finally {
                    progress.finish();
                }
            }
            progress.start("apply delta " + ref, p.targetSize());
            try (FileChannel src = source.path == null ? emptyChannel(store) : FileChannel.open(source.path);
                    PatchInputStream made = new PatchInputStream(Files.newInputStream(store.path(p.blob().digest())),
                            src)) {
                store.put(p.target(), made, progress);
            } catch (ImageSourceException e) {
                throw new ImageSourceException(ref + ": the delta does not apply: " + e.getMessage(), e);
            } catch (IOException e) {
                throw new ImageSourceException(ref + ": the delta does not apply (corrupt patch " + p.blob().digest()
                        + "): " + e.getMessage(), e);
            } finally {
                progress.finish();
            }
            return wire;
        } finally {
            Files.deleteIfExists(store.path(p.blob().digest()));
            if (source.temporary) {
                Files.deleteIfExists(source.path);
            }
        }
    }

    private record SourceLayer(Path path, boolean temporary) {}

    /**
     * The running OS's uncompressed layer: from the cache as is, or uncompressed from the compressed blob a full
     * pull left there (verified against its diff_id on the way in, and removed again after use).
     */
    private SourceLayer sourceLayer(DeltaManifest.Patch p, BlobStore store) throws IOException {
        if (p.sourceDiffId() == null) {
            return new SourceLayer(null, false);
        }
        Descriptor tar = p.sourceTar();
        if (store.has(tar)) {
            store.verify(tar);
            return new SourceLayer(store.path(tar.digest()), false);
        }
        Descriptor compressed = new Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", p.sourceDigest(), 0);
        Path blob = store.path(compressed.digest());
        if (!Files.isRegularFile(blob)) {
            throw new ImageSourceException(ref + ": the delta is for another source version: its source layer "
                    + p.sourceDigest() + " is not in this device's cache");
        }
        try (InputStream in = DeltaLayers.open(blob, compressed.mediaType(), ref.toString())) {
            store.put(tar, in, Progress.NONE);
        } catch (ImageSourceException e) {
            throw new ImageSourceException(ref + ": the cached source layer " + p.sourceDigest()
                    + " does not uncompress to the delta's source " + p.sourceDiffId() + ": " + e.getMessage(), e);
        }
        return new SourceLayer(store.path(tar.digest()), true);
    }

    /** A patch made from nothing (a layer the source image did not have) reads from an empty file. */
    private static FileChannel emptyChannel(BlobStore store) throws IOException {
        Path empty = Files.createTempFile(store.dir(), ".empty-", "");
        FileChannel c = FileChannel.open(empty, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.DELETE_ON_CLOSE);
        return c;
    }
}
