package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.fs.AtomicFiles;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.fsimage.ChunkIndex;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.FsImages;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.machine.UpdateContext;
import io.hupd.ports.Progress;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;

/**
 * WRITING_ROOTFS for a filesystem-image image: the chunks go into the spare slot in one pass, each either copied
 * from the running root (found there by content, {@link DeviceChunks}: a chunk delta from whatever version
 * runs, nothing made per pair) or fetched with a Range request and checked against the index before it is
 * decompressed and written ({@link ChunkSources}). The slot is flushed, and what is written recorded in the work
 * folder, every {@link #checkpointBytes} (at most 16 MiB; {@link SlotWriter}): a run after a crash starts at the
 * first chunk not recorded. Only once the whole image's digest matches is the slot checked (e2fsck, os-release)
 * and marked verified.
 */
final class FsImageInstall {
    static final long CHECKPOINT_BYTES = 16L << 20;
    /** A small image is still checkpointed a few times: every eighth of it, but at least every MiB. */
    static long checkpointBytes(long imageSize) {
        return Math.max(1L << 20, Math.min(CHECKPOINT_BYTES, imageSize / 8));
    }
    /** A Range request asks for at most this many bytes of consecutive missing chunks. */
    static final long RUN_BYTES = 8L << 20;

    private final Device device;

    FsImageInstall(Device device) {
        this.device = device;
    }

    StepOutcome run(UpdateContext ctx, StepLog log, ResolvedImage image) throws IOException {
        Path work = device.data().workDir(ctx.updateId());
        FsImages.Layers layers = FsImages.layersOf(image).orElseThrow();
        ChunkIndex index = readIndex(layers, new BlobStore(device.data().blobCache()));
        long capacity = device.slots().capacityBytes(ctx.spareSlot());
        if (index.imageSize() > capacity) {
            return StepOutcome.failed("the filesystem image (" + Sizes.mib(index.imageSize())
                    + " MiB) does not fit in slot " + ctx.spareSlot() + " (" + Sizes.mib(capacity) + " MiB)");
        }
        SlotWriter.Written written = SlotWriter.load(work, layers.image(), ctx);
        List<ChunkIndex.Chunk> chunks = index.chunks();

        device.slots().markNotBootable(ctx.spareSlot());
        ChunkSources sources = new ChunkSources(device, ctx, log, layers);
        String digest;
        try (FileChannel slot = device.slots().openRaw(ctx.spareSlot(), true);
                SlotWriter writer = new SlotWriter(slot, work, log, written);
                // read even when the source is on this disk: copying a chunk costs less than decompressing it
                DeviceChunks local = written.chunksWritten < chunks.size() ? DeviceChunks.index(device, ctx, log)
                        : DeviceChunks.none()) {
            long start = written.chunksWritten == 0 ? 0 : chunks.get(written.chunksWritten - 1).offset()
                    + chunks.get(written.chunksWritten - 1).length();
            if (start > 0) {
                log.info("resuming the write of slot " + ctx.spareSlot() + " at chunk " + written.chunksWritten + " of "
                        + chunks.size() + " (" + Sizes.mib(start) + " MiB already written)");
                writer.hashPrefix(start);
            }
            Progress progress = log.progress();
            progress.start("writing root " + ctx.spareSlot(), index.imageSize() - start);
            try {
                writeChunks(chunks, written.chunksWritten, checkpointBytes(index.imageSize()), local, sources, writer,
                        progress);
            } catch (ChunkSources.AllFailed e) {
                writer.flush();
                return StepOutcome.failed(e.getMessage());
            } finally {
                progress.finish();
                sources.release();
            }
            digest = writer.digest();
        }
        if (!digest.equals(index.imageDigest())) {
            // a damaged slot or record: the next try writes every chunk again
            AtomicFiles.delete(SlotWriter.recordFile(work));
            return StepOutcome.failed("slot " + ctx.spareSlot() + " holds an image with digest " + digest
                    + ", the index says " + index.imageDigest());
        }
        log.info("slot " + ctx.spareSlot() + " holds the image " + index.imageDigest() + ": " + written.chunksFromDevice
                + " of " + chunks.size() + " chunks found on the device (zeros or in the running root), "
                + written.chunkBytesFetched + " bytes of chunks fetched");
        device.slots().verify(ctx.spareSlot(), ctx.targetVersion());
        String identity = identity(ctx);
        if (identity != null) {
            return StepOutcome.failed(identity);
        }
        device.slots().markVerified(ctx.spareSlot(), ctx.targetVersion());
        log.info("slot " + ctx.spareSlot() + " written and verified: " + ctx.targetVersion());
        return StepOutcome.succeeded();
    }

    /**
     * Chunks {@code from} to the end, in order: a chunk the device holds is copied, the missing ones between are
     * fetched as runs of up to {@link #RUN_BYTES}. Ends with every chunk flushed and recorded.
     */
    private static void writeChunks(List<ChunkIndex.Chunk> chunks, int from, long checkpointEvery,
            DeviceChunks local, ChunkSources sources, SlotWriter writer, Progress progress) throws IOException {
        long sinceCheckpoint = 0;
        int i = from;
        while (i < chunks.size()) {
            ChunkIndex.Chunk c = chunks.get(i);
            int done = 0;
            if (local.has(c)) {
                byte[] plain = writer.buffer();
                if (local.read(c, plain)) {
                    writer.write(c, plain);
                    writer.written.chunksFromDevice++;
                    progress.advance(c.length());
                    done = 1;
                } else {
                    writer.discard(plain);
                }
            }
            if (done == 0) {
                int end = i + 1;
                long runBytes = c.layerLength();
                while (end < chunks.size() && runBytes + chunks.get(end).layerLength() <= RUN_BYTES
                        && !local.has(chunks.get(end))) {
                    runBytes += chunks.get(end).layerLength();
                    end++;
                }
                done = sources.fetchRun(chunks, i, end, writer, progress);
            }
            for (int k = i; k < i + done; k++) {
                sinceCheckpoint += chunks.get(k).length();
            }
            i += done;
            if (sinceCheckpoint >= checkpointEvery || i == chunks.size()) {
                writer.checkpoint(i);
                sinceCheckpoint = 0;
            }
        }
        if (from == chunks.size()) {
            writer.flush();
        }
    }

    private String identity(UpdateContext ctx) throws IOException {
        Map<String, String> fields = device.slots().osRelease(ctx.spareSlot());
        String type = fields.get("BALENA_DEVICE_TYPE");
        if (type != null && !type.equals(device.deviceType())) {
            return "the image is for device type " + OsVersion.printable(type) + ", this device is "
                    + device.deviceType();
        }
        return null;
    }

    private static ChunkIndex readIndex(FsImages.Layers layers, BlobStore store) throws IOException {
        Descriptor d = layers.index();
        if (d.size() > ChunkIndex.MAX_BYTES) {
            throw new IOException("the chunk index has " + d.size() + " bytes, more than the "
                    + (ChunkIndex.MAX_BYTES >> 20) + " MiB an index may have");
        }
        byte[] bytes;
        try (BlobStore.VerifyingStream in = store.openVerifying(d)) {
            bytes = in.readAllBytes();
            in.check();
        }
        return ChunkIndex.parse(bytes, layers.image().size(), "chunk index " + d.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
