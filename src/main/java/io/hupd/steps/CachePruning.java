package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.image.cache.BlobCachePruner;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.machine.UpdateContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The blob cache pruned by the steps that end an update (docs/registry.md, "The cache"). Pruning only saves
 * space: a failure to prune is logged and the update ends as it would have. Each call comes before the step
 * removes the update's work folder, which holds the image the update fetched.
 */
final class CachePruning {
    @FunctionalInterface
    private interface Pruning {
        BlobCachePruner.Result run(BlobCachePruner pruner, ResolvedImage fetched) throws IOException;
    }

    private CachePruning() {}

    static void afterCommit(Device device, UpdateContext ctx, StepLog log) {
        run(device, ctx, log, BlobCachePruner::afterCommit);
    }

    static void afterRollback(Device device, UpdateContext ctx, StepLog log) {
        run(device, ctx, log, BlobCachePruner::afterRollback);
    }

    static void afterRevert(Device device, UpdateContext ctx, StepLog log) {
        run(device, ctx, log, BlobCachePruner::afterRevert);
    }

    private static void run(Device device, UpdateContext ctx, StepLog log, Pruning pruning) {
        try {
            BlobCachePruner.Result r = pruning.run(new BlobCachePruner(device.data().blobCache()),
                    fetched(device, ctx));
            log.info(r.summary());
            r.notes().forEach(n -> log.info("cache: " + n));
        } catch (IOException | RuntimeException e) {
            log.warn("the blob cache was not pruned (the update is not affected): " + e.getMessage());
        }
    }

    /** The image this update pinned, or null when it pinned none or the record is gone or unreadable. */
    private static ResolvedImage fetched(Device device, UpdateContext ctx) {
        if (ctx.updateId() == null) {
            return null;
        }
        Path work = device.data().workDir(ctx.updateId());
        if (!Files.exists(PinnedImage.file(work))) {
            return null;
        }
        try {
            return PinnedImage.load(work);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
