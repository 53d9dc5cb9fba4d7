package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.delta.DeltaMissingException;
import io.hupd.image.delta.DeltaNaming;
import io.hupd.image.fetch.ImageSource;
import io.hupd.image.fetch.ImageSourceFactory;
import io.hupd.image.oci.FsImages;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateEvent;
import io.hupd.ports.AbortRequested;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * FETCHING: tries the delta, then each image source in order (SPEC §3 step 4). A source that fails is logged
 * with its reason and the next is tried; every blob is verified as it streams into the data partition's cache,
 * so a resumed fetch only adds what is missing.
 */
public final class FetchStep implements Step {
    private final Device device;

    public FetchStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        Path work = device.data().workDir(ctx.updateId());
        Files.createDirectories(work);
        BlobStore store = new BlobStore(device.data().blobCache());
        List<String> refs = new ArrayList<>();
        // Without --delta, a delta is looked for next to the first image (docs/delta.md); not finding one is normal.
        String conventional = ctx.delta() != null ? null
                : DeltaNaming.next(ctx.images(), ctx.fromVersion()).orElse(null);
        if (ctx.delta() != null) {
            refs.add(ctx.delta());
        } else if (conventional != null) {
            refs.add(conventional);
        }
        refs.addAll(ctx.images());
        // this run's failed sources, each recorded at once (a crash or an abort must not lose them)
        List<String> failures = new ArrayList<>();
        if (!ctx.sourceFailures().isEmpty()) {
            log.record(c -> c.sourceFailures(List.of()));
        }
        ImageSourceFactory images = UpdateImages.of(device, ctx, log);
        for (String ref : refs) {
            boolean delta = ref.equals(ctx.delta()) || ref.equals(conventional);
            String kind = delta ? "delta" : "image";
            try {
                ImageSource source = delta ? images.openDelta(ref, ctx.images()) : images.open(ref);
                log.info("fetching " + kind + " " + ref);
                ResolvedImage image = pinnedOrResolve(work, source);
                String wrong = ImageForThisDevice.mismatch(device, image);
                if (wrong != null) {
                    throw new java.io.IOException(wrong);
                }
                // Pinned before the download, so a run resumed after a crash fetches the same digests.
                PinnedImage.save(work, image);
                LayerCheck.DuringFetch check = checksDuringFetch(image, store) ? LayerCheck.DuringFetch.start(
                        store, image.layers().get(0)) : null;
                long bytes;
                boolean fetched = false;
                try {
                    // a filesystem image's chunks are streamed into the slot by WRITING_ROOTFS (FsImageInstall)
                    bytes = source.fetch(FsImages.isFsImage(image) ? FsImages.withoutChunks(image) : image, store,
                            log.progress());
                    fetched = true;
                } finally {
                    if (check != null) {
                        String outcome = check.fetchEnded(fetched, work);
                        if (outcome != null) {
                            log.info(outcome);
                        }
                    }
                }
                Long securityVersion = SecurityFloor.of(image);
                long transferred = bytes;
                log.info("fetched " + image.manifestDigest() + " from " + ref + " (" + bytes + " bytes transferred)");
                // the journal keeps it, so 'hupd history' shows where each update's image came from
                return StepOutcome.of(UpdateEvent.SUCCEEDED, "fetched from " + kind + " " + ref + ": " + bytes
                        + " bytes over the wire").with(c -> c.source(ref).manifestDigest(image.manifestDigest())
                                .securityVersion(securityVersion).bytesFetched(transferred));
            } catch (AbortRequested e) {
                throw e;
            } catch (Exception e) {
                if (ref.equals(conventional)) {
                    // not a source the operator named: logged, but not one of the update's source failures
                    if (e instanceof DeltaMissingException) {
                        log.info("no delta at " + ref + ": fetching the full image");
                    } else {
                        log.warn("delta " + ref + " not used, fetching the full image: " + e.getMessage());
                    }
                    continue;
                }
                String reason = ref + ": " + e.getMessage();
                failures.add(reason);
                log.record(c -> c.addSourceFailure(reason));
                log.warn(kind + " source failed, trying the next: " + reason);
            }
        }
        return StepOutcome.failed("all image sources failed: " + String.join("; ", failures));
    }

    /**
     * The layer is checked while it downloads when WRITING_ROOTFS will want that check (one layer, a slot writer
     * that takes archives) and the layer is not in the cache already (then nothing is written to follow).
     */
    private boolean checksDuringFetch(ResolvedImage image, BlobStore store) {
        return !FsImages.isFsImage(image) && image.layers().size() == 1 && device.slots().writesArchives() && !store.has(image.layers().get(0));
    }

    /** A tag is read once per update: a resumed fetch of the same source keeps the digests it pinned. */
    private static ResolvedImage pinnedOrResolve(Path work, ImageSource source) throws java.io.IOException {
        if (Files.exists(PinnedImage.file(work))) {
            ResolvedImage pinned = PinnedImage.load(work);
            if (pinned.reference().equals(source.reference())) {
                return pinned;
            }
        }
        return source.resolve();
    }
}
