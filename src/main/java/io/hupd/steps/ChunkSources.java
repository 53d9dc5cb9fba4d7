package io.hupd.steps;

import io.hupd.image.fsimage.ChunkIndex;
import io.hupd.image.fsimage.Chunker;
import io.hupd.image.oci.FsImages;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.machine.UpdateContext;
import io.hupd.device.Device;
import io.hupd.image.fetch.ImageSource;
import io.hupd.image.fetch.ImageSourceFactory;
import io.hupd.ports.Progress;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The update's image sources that serve this very layer (the one it fetched from first, then the others in
 * order), opened when a chunk is first needed. Each chunk fetched is checked against the index before it is
 * decompressed. A source that serves a chunk whose digest is not the index's is dropped for the rest of the
 * update's run; one whose connection breaks is tried again.
 */
final class ChunkSources {
    /** Reads of one source cut short are tried again this often before the next source is used. */
    static final int ATTEMPTS_PER_SOURCE = 3;

    static final class AllFailed extends IOException {
        AllFailed(String message) {
            super(message);
        }
    }

    private final Device device;
    private final UpdateContext ctx;
    private final StepLog log;
    private final FsImages.Layers layers;
    private final List<String> refs = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private final MessageDigest md = FsImageInstall.sha256();
    private byte[] compressed = new byte[Chunker.MAX_CHUNK + 64 * 1024];
    private ImageSource current;
    private int attempts;

    ChunkSources(Device device, UpdateContext ctx, StepLog log, FsImages.Layers layers) {
        this.device = device;
        this.ctx = ctx;
        this.log = log;
        this.layers = layers;
        if (ctx.source() != null && ctx.images().contains(ctx.source())) {
            refs.add(ctx.source());
        }
        for (String r : ctx.images()) {
            if (!refs.contains(r)) {
                refs.add(r);
            }
        }
    }

    /**
     * Fetches chunks {@code from} (inclusive) to {@code to} (exclusive) with one Range request and queues each,
     * once checked and decompressed, to the writer.
     *
     * @return how many chunks from {@code from} were queued (at least one)
     */
    int fetchRun(List<ChunkIndex.Chunk> chunks, int from, int to, SlotWriter writer, Progress progress)
            throws IOException {
        while (true) {
            ImageSource source = source();
            ChunkIndex.Chunk first = chunks.get(from);
            ChunkIndex.Chunk last = chunks.get(to - 1);
            long length = last.layerOffset() + last.layerLength() - first.layerOffset();
            int done = 0;
            try (InputStream in = source.openRange(layers.image(), first.layerOffset(), length)) {
                for (int k = from; k < to; k++) {
                    ChunkIndex.Chunk c = chunks.get(k);
                    if (c.layerLength() > compressed.length) {
                        compressed = new byte[c.layerLength()];
                    }
                    int got = in.readNBytes(compressed, 0, c.layerLength());
                    writer.written.chunkBytesFetched += got;
                    if (got < c.layerLength()) {
                        throw new EOFException("the answer ended " + (c.layerLength() - got) + " bytes into chunk "
                                + k);
                    }
                    md.reset();
                    md.update(compressed, 0, c.layerLength());
                    String digest = "sha256:" + HexFormat.of().formatHex(md.digest());
                    if (!digest.equals(c.layerDigest())) {
                        drop(source, "chunk " + k + " has digest " + digest + ", the index says " + c.layerDigest());
                        break;
                    }
                    byte[] plain = writer.buffer();
                    try {
                        inflate(c, plain, k);
                    } catch (IOException e) {
                        writer.discard(plain);
                        throw e;
                    }
                    writer.write(c, plain);
                    progress.advance(c.length());
                    done++;
                }
            } catch (AllFailed e) {
                throw e;
            } catch (IOException e) {
                if (++attempts >= ATTEMPTS_PER_SOURCE) {
                    drop(source, e.getMessage());
                } else {
                    log.warn(source.reference() + ": " + e.getMessage() + "; asking again from chunk " + (from + done));
                }
            }
            if (done > 0) {
                return done;
            }
        }
    }

    private void inflate(ChunkIndex.Chunk c, byte[] plain, int k) throws IOException {
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

    private void drop(ImageSource source, String why) throws IOException {
        String reason = source.reference() + ": " + why;
        failures.add(reason);
        log.record(c -> c.addSourceFailure(reason));
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
