package io.hupd.steps;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.device.Device;
import io.hupd.fs.AtomicFiles;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.fetch.ImageSource;
import io.hupd.image.fetch.ImageSourceFactory;
import io.hupd.image.fsimage.ChunkIndex;
import io.hupd.image.fsimage.Chunker;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.FsImages;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.machine.UpdateContext;
import io.hupd.ports.Progress;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * WRITING_ROOTFS for a filesystem-image image: the chunks go into the spare slot in one pass, each either copied
 * from the running root (found there by content: a chunk delta from whatever version runs, nothing made per
 * pair) or fetched with a Range request and checked against the index before it is decompressed and written.
 * The slot is flushed, and what is written recorded in the work folder, every {@link #checkpointBytes} (at most 16 MiB): a run
 * after a crash starts at the first chunk not recorded. Only once the whole image's digest matches is the slot
 * checked (e2fsck, os-release) and marked verified.
 */
final class FsImageInstall {
    static final long CHECKPOINT_BYTES = 16L << 20;
    /** A small image is still checkpointed a few times: every eighth of it, but at least every MiB. */
    static long checkpointBytes(long imageSize) {
        return Math.max(1L << 20, Math.min(CHECKPOINT_BYTES, imageSize / 8));
    }
    /** A Range request asks for at most this many bytes of consecutive missing chunks. */
    static final long RUN_BYTES = 8L << 20;
    /** Reads of one source cut short are tried again this often before the next source is used. */
    static final int ATTEMPTS_PER_SOURCE = 3;
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final Device device;

    FsImageInstall(Device device) {
        this.device = device;
    }

    /** What is in the slot for sure: the first {@code chunksWritten} chunks of the layer, flushed. */
    public static final class Written {
        public String layerDigest;
        public int chunksWritten;
        /** Chunk bytes that came over the wire, over every run of this update. */
        public long chunkBytesFetched;
        /** Bytes FETCHING transferred (config and index), counted once. */
        public long fetchBytes;
        public long chunksFromDevice;
    }

    static Path recordFile(Path work) {
        return work.resolve("fsimage-written.json");
    }

    StepOutcome run(UpdateContext ctx, StepLog log, ResolvedImage image) throws IOException {
        Path work = device.data().workDir(ctx.updateId);
        FsImages.Layers layers = FsImages.layersOf(image).orElseThrow();
        ChunkIndex index = readIndex(layers, new BlobStore(device.data().blobCache()));
        long capacity = device.slots().capacityBytes(ctx.spareSlot);
        if (index.imageSize() > capacity) {
            return StepOutcome.failed("the filesystem image (" + PreflightStep.mib(index.imageSize())
                    + " MiB) does not fit in slot " + ctx.spareSlot + " (" + PreflightStep.mib(capacity) + " MiB)");
        }
        Written written = loadRecord(work, layers.image(), ctx);
        List<ChunkIndex.Chunk> chunks = index.chunks();

        device.slots().markNotBootable(ctx.spareSlot);
        MessageDigest whole = sha256();
        Sources sources = new Sources(ctx, log, layers);
        try (FileChannel slot = device.slots().openRaw(ctx.spareSlot, true)) {
            long start = written.chunksWritten == 0 ? 0 : chunks.get(written.chunksWritten - 1).offset()
                    + chunks.get(written.chunksWritten - 1).length();
            if (start > 0) {
                log.info("resuming the write of slot " + ctx.spareSlot + " at chunk " + written.chunksWritten + " of "
                        + chunks.size() + " (" + PreflightStep.mib(start) + " MiB already written)");
                hashPrefix(slot, start, whole);
            }
            Map<Long, Long> local = written.chunksWritten < chunks.size() ? localChunks(ctx, log) : Map.of();
            Progress progress = log.progress();
            progress.start("writing root " + ctx.spareSlot, index.imageSize() - start);
            try {
                long sinceCheckpoint = 0;
                int i = written.chunksWritten;
                byte[] plain = new byte[Chunker.MAX_CHUNK];
                FileChannel running = local.isEmpty() ? null : device.slots().openRaw(ctx.activeSlot, false);
                try {
                    while (i < chunks.size()) {
                        ChunkIndex.Chunk c = chunks.get(i);
                        Long at = local.get(key(c.length(), c.crc32c()));
                        if (at != null && readLocal(running, at, c, plain)) {
                            write(slot, c, plain, whole);
                            written.chunksFromDevice++;
                            i++;
                            sinceCheckpoint += c.length();
                            progress.advance(c.length());
                        } else {
                            int end = i + 1;
                            long runBytes = c.layerLength();
                            while (end < chunks.size() && runBytes + chunks.get(end).layerLength() <= RUN_BYTES) {
                                ChunkIndex.Chunk n = chunks.get(end);
                                if (local.containsKey(key(n.length(), n.crc32c()))) {
                                    break;
                                }
                                runBytes += n.layerLength();
                                end++;
                            }
                            int done = sources.fetchRun(chunks, i, end, plain, (chunk, bytes) -> {
                                write(slot, chunk, bytes, whole);
                                progress.advance(chunk.length());
                            }, written);
                            for (int k = i; k < i + done; k++) {
                                sinceCheckpoint += chunks.get(k).length();
                            }
                            i += done;
                        }
                        if (sinceCheckpoint >= checkpointBytes(index.imageSize())) {
                            checkpoint(slot, work, written, i, ctx);
                            sinceCheckpoint = 0;
                        }
                    }
                } finally {
                    if (running != null) {
                        running.close();
                    }
                }
                slot.force(true);
                written.chunksWritten = i;
            } catch (Sources.AllFailed e) {
                slot.force(true);
                saveRecord(work, written, ctx);
                return StepOutcome.failed(e.getMessage());
            } finally {
                progress.finish();
                sources.release();
            }
        }
        saveRecord(work, written, ctx);
        String digest = "sha256:" + HexFormat.of().formatHex(whole.digest());
        if (!digest.equals(index.imageDigest())) {
            // a damaged slot or record: the next try writes every chunk again
            AtomicFiles.delete(recordFile(work));
            return StepOutcome.failed("slot " + ctx.spareSlot + " holds an image with digest " + digest
                    + ", the index says " + index.imageDigest());
        }
        log.info("slot " + ctx.spareSlot + " holds the image " + index.imageDigest() + ": " + written.chunksFromDevice
                + " of " + chunks.size() + " chunks copied from the device, " + written.chunkBytesFetched
                + " bytes of chunks fetched");
        device.slots().verify(ctx.spareSlot, ctx.targetVersion);
        String identity = identity(ctx);
        if (identity != null) {
            return StepOutcome.failed(identity);
        }
        device.slots().markVerified(ctx.spareSlot, ctx.targetVersion);
        log.info("slot " + ctx.spareSlot + " written and verified: " + ctx.targetVersion);
        return StepOutcome.succeeded();
    }

    private String identity(UpdateContext ctx) throws IOException {
        Map<String, String> fields = device.slots().osRelease(ctx.spareSlot);
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

    private Written loadRecord(Path work, Descriptor layer, UpdateContext ctx) throws IOException {
        Path f = recordFile(work);
        if (Files.isRegularFile(f)) {
            try {
                Written w = JSON.readValue(f.toFile(), Written.class);
                if (layer.digest().equals(w.layerDigest) && w.chunksWritten >= 0) {
                    return w;
                }
            } catch (IOException e) {
                // a record that cannot be read is no record: write every chunk again
            }
        }
        Written w = new Written();
        w.layerDigest = layer.digest();
        w.fetchBytes = ctx.bytesFetched;
        return w;
    }

    private void checkpoint(FileChannel slot, Path work, Written written, int chunks, UpdateContext ctx)
            throws IOException {
        // the slot first: the record never claims a chunk the slot might not hold after a power cut
        slot.force(true);
        written.chunksWritten = chunks;
        saveRecord(work, written, ctx);
    }

    private static void saveRecord(Path work, Written written, UpdateContext ctx) throws IOException {
        ctx.bytesFetched = written.fetchBytes + written.chunkBytesFetched;
        ctx.chunksWritten = written.chunksWritten;
        AtomicFiles.write(recordFile(work), JSON.writeValueAsBytes(written));
    }

    private static void write(FileChannel slot, ChunkIndex.Chunk c, byte[] plain, MessageDigest whole)
            throws IOException {
        ByteBuffer b = ByteBuffer.wrap(plain, 0, c.length());
        long pos = c.offset();
        while (b.hasRemaining()) {
            pos += slot.write(b, pos);
        }
        whole.update(plain, 0, c.length());
    }

    private static void hashPrefix(FileChannel slot, long length, MessageDigest whole) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1 << 20);
        long pos = 0;
        while (pos < length) {
            b.clear().limit((int) Math.min(b.capacity(), length - pos));
            int r = slot.read(b, pos);
            if (r < 0) {
                throw new IOException("the slot ends before the " + length + " bytes already written");
            }
            whole.update(b.array(), 0, r);
            pos += r;
        }
    }

    /** A chunk read from the running root, used only when its digest is the index's. */
    private static boolean readLocal(FileChannel running, long at, ChunkIndex.Chunk c, byte[] plain)
            throws IOException {
        ByteBuffer b = ByteBuffer.wrap(plain, 0, c.length());
        long pos = at;
        while (b.hasRemaining()) {
            int r = running.read(b, pos);
            if (r < 0) {
                return false;
            }
            pos += r;
        }
        MessageDigest md = sha256();
        md.update(plain, 0, c.length());
        return c.digest().equals("sha256:" + HexFormat.of().formatHex(md.digest()));
    }

    private static long key(int length, int crc) {
        return ((long) length << 32) | (crc & 0xFFFFFFFFL);
    }

    /**
     * The chunks of the filesystem in the running root, cut the way images are cut, by length and CRC-32C (a
     * candidate is confirmed by its SHA-256 when it is used). Nothing found when the root is not ext4.
     */
    private Map<Long, Long> localChunks(UpdateContext ctx, StepLog log) {
        Map<Long, Long> found = new HashMap<>();
        try (FileChannel running = device.slots().openRaw(ctx.activeSlot, false)) {
            long size = ext4Size(running);
            if (size <= 0) {
                return found;
            }
            Chunker chunker = new Chunker();
            byte[] buf = new byte[2 * Chunker.MAX_CHUNK];
            int have = 0;
            long offset = 0;
            long pos = 0;
            boolean eof = false;
            while (true) {
                while (!eof && have < buf.length) {
                    int want = (int) Math.min(buf.length - have, size - pos);
                    if (want <= 0) {
                        eof = true;
                        break;
                    }
                    int r = running.read(ByteBuffer.wrap(buf, have, want), pos);
                    if (r < 0) {
                        eof = true;
                    } else {
                        have += r;
                        pos += r;
                    }
                }
                if (have == 0) {
                    break;
                }
                int len = chunker.cut(buf, 0, have, eof);
                found.putIfAbsent(key(len, Chunker.crc(buf, 0, len)), offset);
                offset += len;
                System.arraycopy(buf, len, buf, 0, have - len);
                have -= len;
            }
            log.info("indexed the running root (slot " + ctx.activeSlot + "): " + found.size() + " chunks");
        } catch (IOException | UnsupportedOperationException e) {
            log.warn("the running root cannot be indexed, every chunk is fetched: " + e.getMessage());
        }
        return found;
    }

    /** The filesystem's size from its superblock; 0 when it is not ext2/3/4. */
    static long ext4Size(FileChannel ch) throws IOException {
        ByteBuffer sb = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
        while (sb.hasRemaining()) {
            if (ch.read(sb, 1024 + sb.position()) < 0) {
                return 0;
            }
        }
        if ((sb.getShort(0x38) & 0xFFFF) != 0xEF53) {
            return 0;
        }
        int log = sb.getInt(0x18);
        if (log < 0 || log > 6) {
            return 0;
        }
        long blocks = sb.getInt(0x04) & 0xFFFFFFFFL;
        if ((sb.getInt(0x60) & 0x80) != 0) {
            blocks |= (sb.getInt(0x150) & 0xFFFFFFFFL) << 32;
        }
        return Math.min(blocks * (1024L << log), ch.size());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    interface ChunkSink {
        void accept(ChunkIndex.Chunk chunk, byte[] plain) throws IOException;
    }

    /**
     * The update's image sources that serve this very layer (the one it fetched from first, then the others
     * in order), opened when a chunk is first needed. A source that serves a chunk whose digest is not the
     * index's is dropped for the rest of the update's run; one whose connection breaks is tried again.
     */
    private final class Sources {
        static final class AllFailed extends IOException {
            AllFailed(String message) {
                super(message);
            }
        }

        private final UpdateContext ctx;
        private final StepLog log;
        private final FsImages.Layers layers;
        private final List<String> refs = new ArrayList<>();
        private final List<String> failures = new ArrayList<>();
        private ImageSource current;
        private int attempts;

        Sources(UpdateContext ctx, StepLog log, FsImages.Layers layers) {
            this.ctx = ctx;
            this.log = log;
            this.layers = layers;
            if (ctx.source != null && ctx.images.contains(ctx.source)) {
                refs.add(ctx.source);
            }
            for (String r : ctx.images) {
                if (!refs.contains(r)) {
                    refs.add(r);
                }
            }
        }

        /** @return how many chunks from {@code from} were written (at least one) */
        int fetchRun(List<ChunkIndex.Chunk> chunks, int from, int to, byte[] plain, ChunkSink sink, Written written)
                throws IOException {
            while (true) {
                ImageSource source = source();
                ChunkIndex.Chunk first = chunks.get(from);
                ChunkIndex.Chunk last = chunks.get(to - 1);
                long length = last.layerOffset() + last.layerLength() - first.layerOffset();
                int done = 0;
                try (InputStream in = source.openRange(layers.image(), first.layerOffset(), length)) {
                    byte[] compressed = new byte[Chunker.MAX_CHUNK + 64 * 1024];
                    for (int k = from; k < to; k++) {
                        ChunkIndex.Chunk c = chunks.get(k);
                        if (c.layerLength() > compressed.length) {
                            compressed = new byte[c.layerLength()];
                        }
                        int got = in.readNBytes(compressed, 0, c.layerLength());
                        written.chunkBytesFetched += got;
                        if (got < c.layerLength()) {
                            throw new java.io.EOFException("the answer ended " + (c.layerLength() - got)
                                    + " bytes into chunk " + k);
                        }
                        MessageDigest md = sha256();
                        md.update(compressed, 0, c.layerLength());
                        String digest = "sha256:" + HexFormat.of().formatHex(md.digest());
                        if (!digest.equals(c.layerDigest())) {
                            drop(source, "chunk " + k + " has digest " + digest + ", the index says "
                                    + c.layerDigest());
                            break;
                        }
                        inflate(compressed, c, plain, k);
                        sink.accept(c, plain);
                        done++;
                    }
                } catch (AllFailed e) {
                    throw e;
                } catch (IOException e) {
                    if (++attempts >= ATTEMPTS_PER_SOURCE) {
                        drop(source, e.getMessage());
                    } else {
                        log.warn(source.reference() + ": " + e.getMessage() + "; asking again from chunk "
                                + (from + done));
                    }
                }
                if (done > 0) {
                    return done;
                }
            }
        }

        private void inflate(byte[] compressed, ChunkIndex.Chunk c, byte[] plain, int k) throws IOException {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(compressed, 0, c.layerLength()),
                    c.layerLength())) {
                int n = in.readNBytes(plain, 0, c.length());
                if (n != c.length() || in.read() >= 0) {
                    throw new IOException("chunk " + k + " does not decompress to its " + c.length() + " bytes");
                }
            }
        }

        private ImageSource source() throws IOException {
            while (current == null) {
                if (refs.isEmpty()) {
                    throw new AllFailed("no image source serves the chunks: " + String.join("; ", failures));
                }
                String ref = refs.remove(0);
                try {
                    ImageSourceFactory images = UpdateImages.of(device, ctx, log);
                    ImageSource s = images.open(ref);
                    ResolvedImage other = s.resolve();
                    FsImages.Layers l = FsImages.layersOf(other).orElse(null);
                    if (l == null || !l.image().equals(layers.image()) || !l.index().equals(layers.index())) {
                        failures.add(ref + ": not the same filesystem image");
                        continue;
                    }
                    current = s;
                    attempts = 0;
                    log.info("fetching chunks from " + ref);
                } catch (IOException | RuntimeException e) {
                    failures.add(ref + ": " + e.getMessage());
                    log.warn("chunk source " + ref + " not used: " + e.getMessage());
                }
            }
            return current;
        }

        private void drop(ImageSource source, String why) {
            String reason = source.reference() + ": " + why;
            failures.add(reason);
            ctx.sourceFailures.add(reason);
            log.warn("chunk source refused, trying the next: " + reason);
            source.release();
            current = null;
        }

        void release() {
            if (current != null) {
                current.release();
            }
        }
    }
}
