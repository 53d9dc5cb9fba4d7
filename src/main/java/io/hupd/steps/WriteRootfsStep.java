package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.fs.Trees;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.FsImages;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.rootfs.FlattenLimits;
import io.hupd.image.rootfs.LayerFlattener;
import io.hupd.machine.UpdateContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * WRITING_ROOTFS: flattens the verified layers, checks what the tree says about itself (os-release, version,
 * device type) before touching the spare slot, then marks the slot not bootable, formats and fills it, and
 * verifies it. Only a verified slot can be switched to.
 *
 * <p>Two ways to fill the slot, with the same checks before it is touched. When the slot writer takes an archive
 * (mke2fs 1.47.1 and later) and the image is one layer, the layer is read once to check every entry while nothing
 * is written (the tree it would make is noted in memory: the kind of each path, the size of each file, the content
 * of os-release), usually by FETCHING while the layer downloaded ({@link LayerCheck}), and mke2fs then fills the
 * slot from the layer itself: no copy of the tree in the data partition, not even of its names. Otherwise, or
 * when the layer holds something mke2fs would turn into a different tree (see {@link LayerFlattener#survey}), the
 * layers are flattened into a staging folder and the slot is filled from that.
 */
public final class WriteRootfsStep implements Step {
    private final Device device;

    public WriteRootfsStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        Path work = device.data().workDir(ctx.updateId());
        ResolvedImage image = PinnedImage.load(work);
        if (FsImages.isFsImage(image)) {
            return new FsImageInstall(device).run(ctx, log, image);
        }
        BlobStore store = new BlobStore(device.data().blobCache());
        // Each blob is hashed while it is applied rather than in a pass of its own: the layer is read once.
        // Every digest is checked before the spare slot is touched; until then only the staging folder,
        // which is thrown away on failure, has seen the content.
        VerifiedReads reads = new VerifiedReads(store);
        List<LayerFlattener.LayerOpener> blobs = new ArrayList<>();
        List<String> types = new ArrayList<>();
        for (Descriptor layer : image.layers()) {
            blobs.add(reads.opener(layer));
            types.add(layer.mediaType());
        }
        Path tree = work.resolve("rootfs");
        Trees.deleteRecursively(tree);
        Files.createDirectories(tree);
        try {
            if (image.layers().size() == 1 && device.slots().writesArchives()) {
                StepOutcome done = writeFromLayer(image.layers().get(0), store, work, ctx, log);
                if (done != null) {
                    return done;
                }
            }
            reads.run(() -> {
                LayerFlattener.flattenStreams(blobs, types, tree, FlattenLimits.DEFAULT);
                return null;
            });
            String problem = check(LayerCheck.NewRoot.ofFolder(tree), ctx);
            if (problem != null) {
                return StepOutcome.failed(problem);
            }
            device.slots().markNotBootable(ctx.spareSlot());
            log.info("writing slot " + ctx.spareSlot());
            device.slots().write(ctx.spareSlot(), tree, log.progress());
            device.slots().verify(ctx.spareSlot(), ctx.targetVersion());
            device.slots().markVerified(ctx.spareSlot(), ctx.targetVersion());
            log.info("slot " + ctx.spareSlot() + " written and verified: " + ctx.targetVersion());
            return StepOutcome.succeeded();
        } finally {
            // The slot now holds the tree; a copy in the data partition would only take the user's space.
            Trees.deleteRecursively(tree);
        }
    }

    /**
     * The one-pass way: a survey of the layer, the checks on what it noted, then the slot filled from the layer.
     *
     * @return the outcome, or null when the layer is better staged in a folder (nothing was written to the slot)
     */
    private StepOutcome writeFromLayer(Descriptor layer, BlobStore store, Path work, UpdateContext ctx,
            StepLog log) throws IOException {
        LayerCheck check = LayerCheck.load(work, layer.digest()).orElse(null);
        if (check == null) {
            log.info("checking the layer; mke2fs will fill slot " + ctx.spareSlot() + " from it, without a staging "
                    + "folder");
            VerifiedReads reads = new VerifiedReads(store);
            check = reads.run(() -> LayerCheck.survey(layer, reads.opener(layer)));
        } else {
            log.info("the layer was checked during the download; mke2fs will fill slot " + ctx.spareSlot()
                    + " from it, without a staging folder");
        }
        if (check.whyNotAsIs() != null) {
            log.info("staging the root filesystem in a folder: the layer has " + check.whyNotAsIs());
            return null;
        }
        String problem = check(check.root(), ctx);
        if (problem != null) {
            return StepOutcome.failed(problem);
        }
        device.slots().markNotBootable(ctx.spareSlot());
        log.info("writing slot " + ctx.spareSlot() + " from the layer");
        // mke2fs reads the blob again after its digest was checked. That is the trust the folder way gives its
        // staging folder: the cache is hupd's own, and a blob is renamed into it once verified and never
        // rewritten. And mke2fs writes nothing but the slot image, so even an archive it read differently from
        // the checks could only change the new root's content, which the image's author decides anyway; the
        // version is read back from the slot below.
        device.slots().writeArchive(ctx.spareSlot(), store.path(layer.digest()), log.progress());
        device.slots().verify(ctx.spareSlot(), ctx.targetVersion());
        device.slots().markVerified(ctx.spareSlot(), ctx.targetVersion());
        log.info("slot " + ctx.spareSlot() + " written and verified: " + ctx.targetVersion());
        return StepOutcome.succeeded();
    }

    /**
     * Blobs read through their digest check: each is hashed while it is read rather than in a pass of its own,
     * and every digest is checked once the read ends, before the caller touches the slot.
     */
    private static final class VerifiedReads {
        interface Read<T> {
            T run() throws IOException;
        }

        private final BlobStore store;
        private final List<BlobStore.VerifyingStream> opened = new ArrayList<>();

        VerifiedReads(BlobStore store) {
            this.store = store;
        }

        LayerFlattener.LayerOpener opener(Descriptor layer) {
            return () -> {
                BlobStore.VerifyingStream s = store.openVerifying(layer);
                opened.add(s);
                return s;
            };
        }

        <T> T run(Read<T> read) throws IOException {
            T result;
            try {
                result = read.run();
            } catch (IOException | RuntimeException e) {
                // A blob damaged in the cache is the cause to report (and to delete), not the archive error
                // its damage produced.
                checkAll();
                throw e;
            }
            checkAll();
            return result;
        }

        private void checkAll() throws IOException {
            for (BlobStore.VerifyingStream s : opened) {
                s.check();
            }
        }
    }

    private String check(LayerCheck.NewRoot root, UpdateContext ctx) throws IOException {
        String identity = checkIdentity(root.osRelease(), ctx);
        if (identity != null) {
            return identity;
        }
        long treeBytes = root.treeBytes();
        // ext4 needs room for its own metadata (inode tables, journal): ask for a tenth more plus 4 MiB.
        long capacity = device.slots().capacityBytes(ctx.spareSlot());
        if (treeBytes + treeBytes / 10 + (4 << 20) > capacity) {
            return "the new root filesystem (" + Sizes.mib(treeBytes) + " MiB) does not fit in slot "
                    + ctx.spareSlot() + " (" + Sizes.mib(capacity) + " MiB)";
        }
        // balena's dry run, before anything is written: the boot partition must keep 512 KiB free.
        if (root.bootFiles() != null) {
            long needed = device.boot().bytesNeeded(root.bootFiles(), device.bootFilePolicy());
            long free = device.boot().freeBytes();
            String problem = BootPartitionSpace.problem(needed, free);
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    private String checkIdentity(byte[] osRelease, UpdateContext ctx) {
        if (osRelease == null) {
            return "the image has no /etc/os-release: it is not an OS image";
        }
        if (osRelease.length > LayerCheck.OS_RELEASE_LIMIT) {
            return "the image's /etc/os-release is larger than " + LayerCheck.OS_RELEASE_LIMIT / 1024
                    + " KiB: it is not an os-release file";
        }
        Map<String, String> fields = OsRelease.parse(new String(osRelease, StandardCharsets.UTF_8));
        String version = fields.get("VERSION_ID");
        if (version == null) {
            return "the image's /etc/os-release has no VERSION_ID";
        }
        if (OsVersion.parse(version).compareTo(OsVersion.parse(ctx.targetVersion())) != 0) {
            return "the image holds version " + OsVersion.printable(version) + ", not the target "
                    + ctx.targetVersion();
        }
        String type = fields.get("BALENA_DEVICE_TYPE");
        if (type != null && !type.equals(device.deviceType())) {
            return "the image is for device type " + OsVersion.printable(type) + ", this device is "
                    + device.deviceType();
        }
        return null;
    }
}
