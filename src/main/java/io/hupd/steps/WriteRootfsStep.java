package io.hupd.steps;

import io.hupd.fs.Trees;
import io.hupd.image.BlobStore;
import io.hupd.image.Descriptor;
import io.hupd.image.FlattenLimits;
import io.hupd.image.LayerFlattener;
import io.hupd.image.ResolvedImage;
import io.hupd.machine.UpdateContext;
import io.hupd.ports.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * WRITING_ROOTFS: flattens the verified layers, checks what the tree says about itself (os-release, version,
 * device type) before touching the spare slot, then marks the slot not bootable, formats and fills it, and
 * verifies it. Only a verified slot can be switched to.
 */
public final class WriteRootfsStep implements Step {
    private final Device device;

    public WriteRootfsStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        Path work = device.data().workDir(ctx.updateId);
        ResolvedImage image = PinnedImage.load(work);
        BlobStore store = new BlobStore(device.data().blobCache());
        // Each blob is hashed while it is applied rather than in a pass of its own: the layer is read once.
        // Every digest is checked before the spare slot is touched; until then only the staging folder,
        // which is thrown away on failure, has seen the content.
        List<BlobStore.VerifyingStream> opened = new ArrayList<>();
        List<LayerFlattener.LayerOpener> blobs = new ArrayList<>();
        List<String> types = new ArrayList<>();
        for (Descriptor layer : image.layers()) {
            blobs.add(() -> {
                BlobStore.VerifyingStream s = store.openVerifying(layer);
                opened.add(s);
                return s;
            });
            types.add(layer.mediaType());
        }
        Path tree = work.resolve("rootfs");
        Trees.deleteRecursively(tree);
        Files.createDirectories(tree);
        try {
            try {
                LayerFlattener.flattenStreams(blobs, types, tree, FlattenLimits.DEFAULT);
            } catch (IOException | RuntimeException e) {
                // A blob damaged in the cache is the cause to report (and to delete), not the archive error
                // its damage produced.
                for (BlobStore.VerifyingStream s : opened) {
                    s.check();
                }
                throw e;
            }
            for (BlobStore.VerifyingStream s : opened) {
                s.check();
            }
            String problem = checkTree(tree, ctx);
            if (problem != null) {
                return StepOutcome.failed(problem);
            }
            device.slots().markNotBootable(ctx.spareSlot);
            log.info("writing slot " + ctx.spareSlot);
            device.slots().write(ctx.spareSlot, tree, log.progress());
            device.slots().verify(ctx.spareSlot, ctx.targetVersion);
            device.slots().markVerified(ctx.spareSlot, ctx.targetVersion);
            log.info("slot " + ctx.spareSlot + " written and verified: " + ctx.targetVersion);
            return StepOutcome.succeeded();
        } finally {
            // The slot now holds the tree; a copy in the data partition would only take the user's space.
            Trees.deleteRecursively(tree);
        }
    }

    private String checkTree(Path tree, UpdateContext ctx) throws IOException {
        String identity = checkIdentity(tree, ctx);
        if (identity != null) {
            return identity;
        }
        // ext4 needs room for its own metadata (inode tables, journal): ask for a tenth more plus 4 MiB.
        long treeBytes = Trees.size(tree);
        long capacity = device.slots().capacityBytes(ctx.spareSlot);
        if (treeBytes + treeBytes / 10 + (4 << 20) > capacity) {
            return "the new root filesystem (" + PreflightStep.mib(treeBytes) + " MiB) does not fit in slot "
                    + ctx.spareSlot + " (" + PreflightStep.mib(capacity) + " MiB)";
        }
        // balena's dry run, before anything is written: the boot partition must keep 512 KiB free.
        Path bootFiles = tree.resolve("resin-boot");
        if (Files.isDirectory(bootFiles, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            long needed = device.boot().bytesNeeded(bootFiles, device.bootFilePolicy());
            long free = device.boot().freeBytes();
            if (free - needed < UpdateBootFilesStep.MINIMUM_FREE_AFTER) {
                return UpdateBootFilesStep.spaceMessage(needed, free);
            }
        }
        return null;
    }

    private String checkIdentity(Path tree, UpdateContext ctx) throws IOException {
        Path osRelease = tree.resolve("etc/os-release");
        if (!Files.isRegularFile(osRelease, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return "the image has no /etc/os-release: it is not an OS image";
        }
        Map<String, String> fields = OsRelease.parse(Files.readString(osRelease));
        String version = fields.get("VERSION_ID");
        if (version == null) {
            return "the image's /etc/os-release has no VERSION_ID";
        }
        if (OsVersion.parse(version).compareTo(OsVersion.parse(ctx.targetVersion)) != 0) {
            return "the image holds version " + OsVersion.printable(version) + ", not the target "
                    + ctx.targetVersion;
        }
        String type = fields.get("BALENA_DEVICE_TYPE");
        if (type != null && !type.equals(device.deviceType())) {
            return "the image is for device type " + OsVersion.printable(type) + ", this device is "
                    + device.deviceType();
        }
        return null;
    }
}
