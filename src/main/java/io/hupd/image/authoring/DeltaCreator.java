package io.hupd.image.authoring;

import com.fasterxml.jackson.databind.JsonNode;
import io.hupd.fs.Trees;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.delta.DeltaLayers;
import io.hupd.image.delta.DeltaManifest;
import io.hupd.image.delta.DeltaRepo;
import io.hupd.image.delta.Hashing;
import io.hupd.image.delta.PatchEncoder;
import io.hupd.image.fetch.ImageSourceFactory;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.ImageSourceException;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.registry.RegistryClient;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.ports.Progress;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** {@code hupd delta create}: one patch per target layer, against the source image's layer at the same place. */
public final class DeltaCreator {
    /** xz preset 6: an 8 MiB dictionary, so applying needs little memory on the device (see docs/delta.md). */
    public static final int PRESET = 6;

    public record Result(String reference, String manifestDigest, long patchBytes, long targetCompressedBytes,
            long targetUncompressedBytes, List<PatchEncoder.Stats> stats) {}

    private final ImageSourceFactory images;
    private final Function<String, RegistryClient> clients;
    private final RegistryOptions options;

    public DeltaCreator(ImageSourceFactory images, Function<String, RegistryClient> clients, RegistryOptions options) {
        this.images = images;
        this.clients = clients;
        this.options = options;
    }

    public Result create(String fromRef, String toRef, String outRef, Progress progress) throws IOException {
        ImageReference out = ImageReference.parse(outRef);
        var from = images.open(fromRef);
        var to = images.open(toRef);
        ResolvedImage source = from.resolve();
        ResolvedImage target = to.resolve();
        Path work = Files.createTempDirectory("hupd-delta-create");
        try {
            BlobStore store = new BlobStore(work.resolve("cache"));
            from.fetch(source, store, progress);
            to.fetch(target, store, progress);
            List<String> sourceDiffIds = diffIds(store, source, fromRef);
            List<String> targetDiffIds = diffIds(store, target, toRef);
            List<DeltaManifest.Patch> patches = new ArrayList<>();
            List<Path> patchFiles = new ArrayList<>();
            List<PatchEncoder.Stats> stats = new ArrayList<>();
            long targetUncompressed = 0;
            for (int i = 0; i < target.layers().size(); i++) {
                Descriptor tl = target.layers().get(i);
                Path tTar = work.resolve("target-" + i + ".tar");
                long tSize = uncompress(store, tl, targetDiffIds.get(i), tTar, toRef);
                targetUncompressed += tSize;
                Path sTar = work.resolve("source-" + i + ".tar");
                Descriptor sl = i < source.layers().size() ? source.layers().get(i) : null;
                long sSize = 0;
                if (sl != null) {
                    sSize = uncompress(store, sl, sourceDiffIds.get(i), sTar, fromRef);
                } else {
                    Files.createFile(sTar);
                }
                Path patch = work.resolve("patch-" + i + ".xz");
                MessageDigest md = Hashing.sha256();
                try (OutputStream o = new java.security.DigestOutputStream(
                        new BufferedOutputStream(Files.newOutputStream(patch), 1 << 16), md)) {
                    stats.add(new PatchEncoder(PRESET).encode(sTar, tTar, o));
                }
                Files.delete(sTar);
                Files.delete(tTar);
                Descriptor blob = new Descriptor(DeltaManifest.PATCH_TYPE, Hashing.digest(md.digest()), Files.size(patch));
                patches.add(new DeltaManifest.Patch(blob, targetDiffIds.get(i), tSize,
                        sl == null ? null : sourceDiffIds.get(i), sSize, sl == null ? null : sl.digest()));
                patchFiles.add(patch);
            }
            DeltaManifest manifest = new DeltaManifest(target.manifestDigest(), source.manifestDigest(),
                    target.config(), patches);
            DeltaRepo repo = DeltaRepo.open(out, clients, options);
            if (!repo.hasBlob(target.config())) {
                repo.putBlob(target.config(), store.path(target.config().digest()));
            }
            long patchBytes = 0;
            for (int i = 0; i < patches.size(); i++) {
                Descriptor blob = patches.get(i).blob();
                patchBytes += blob.size();
                if (!repo.hasBlob(blob)) {
                    repo.putBlob(blob, patchFiles.get(i));
                }
            }
            byte[] json = manifest.toJson();
            repo.putManifest(json);
            long compressed = 0;
            for (Descriptor d : target.layers()) {
                compressed += d.size();
            }
            return new Result(out.toString(), Hashing.sha256(json), patchBytes, compressed, targetUncompressed,
                    stats);
        } finally {
            Trees.deleteRecursively(work);
        }
    }

    /** The {@code rootfs.diff_ids} of an image's config (already verified in the store). */
    static List<String> diffIds(BlobStore store, ResolvedImage image, String what) throws IOException {
        JsonNode config = DeltaManifest.JSON.readTree(io.hupd.fs.BoundedFiles.read(store.path(image.config().digest()), io.hupd.fs.BoundedFiles.DOCUMENT));
        JsonNode ids = config.path("rootfs").path("diff_ids");
        if (!ids.isArray() || ids.size() != image.layers().size()) {
            throw new ImageSourceException(what + ": the config does not list one diff_id per layer");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode id : ids) {
            String s = id.asText("");
            if (!s.matches("sha256:[0-9a-f]{64}")) {
                throw new ImageSourceException(what + ": the config has a bad diff_id");
            }
            out.add(s);
        }
        return out;
    }

    /** Uncompresses a layer to {@code to}, checking that it is the diff_id the config names. */
    public static long uncompress(BlobStore store, Descriptor layer, String diffId, Path to, String what) throws IOException {
        MessageDigest md = Hashing.sha256();
        long size;
        try (InputStream in = new DigestInputStream(DeltaLayers.open(store.path(layer.digest()), layer.mediaType(), what), md)) {
            size = Files.copy(in, to);
        }
        String actual = Hashing.digest(md.digest());
        if (!actual.equals(diffId)) {
            throw new ImageSourceException(what + ": layer " + layer.digest() + " uncompresses to " + actual
                    + ", its config says " + diffId);
        }
        return size;
    }
}
