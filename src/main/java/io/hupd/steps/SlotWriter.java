package io.hupd.steps;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.fs.AtomicFiles;
import io.hupd.image.fsimage.ChunkIndex;
import io.hupd.image.fsimage.Chunker;
import io.hupd.image.oci.Descriptor;
import io.hupd.machine.UpdateContext;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The spare slot being written, with its checkpoint: chunks are written in order on a thread of their own (the
 * caller fetches, checks and decompresses the next ones meanwhile) and hashed into the whole image's digest
 * there. A checkpoint waits for every queued write, flushes the slot's data (fdatasync: the slot's size and
 * blocks are fixed, its bytes are what must last) and only then records how many chunks it holds, so the record
 * never claims a chunk a power cut could have lost.
 */
final class SlotWriter implements AutoCloseable {
    /** Buffers of decompressed chunks in flight between the caller and the writing thread: memory stays flat. */
    static final int BUFFERS = 4;
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

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

    private final FileChannel slot;
    private final Path work;
    /** Where the chunks written reach the update's context: the runner's record of the step's progress. */
    private final StepLog log;
    final Written written;
    private final MessageDigest whole = FsImageInstall.sha256();
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BUFFERS);
    private final ArrayDeque<Future<?>> pending = new ArrayDeque<>();
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "hupd-slot-writer");
        t.setDaemon(true);
        return t;
    });

    SlotWriter(FileChannel slot, Path work, StepLog log, Written written) {
        this.slot = slot;
        this.work = work;
        this.log = log;
        this.written = written;
        for (int i = 0; i < BUFFERS; i++) {
            free.add(new byte[Chunker.MAX_CHUNK]);
        }
    }

    static Path recordFile(Path work) {
        return work.resolve("fsimage-written.json");
    }

    /** The record of an earlier run of this update for this very layer, or a fresh one. */
    static Written load(Path work, Descriptor layer, UpdateContext ctx) {
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
        w.fetchBytes = ctx.bytesFetched();
        return w;
    }

    /** Feeds the first {@code length} bytes already in the slot to the whole image's digest (a resumed run). */
    void hashPrefix(long length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 << 20);
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

    /** A buffer for the next chunk's bytes; waits while all are queued for writing. */
    byte[] buffer() throws IOException {
        rethrowFailures(false);
        try {
            return free.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing the slot");
        }
    }

    /** Queues the chunk, whose bytes are in a buffer from {@link #buffer()}, to be written at its offset. */
    void write(ChunkIndex.Chunk c, byte[] plain) throws IOException {
        pending.add(thread.submit(() -> {
            try {
                ByteBuffer b = ByteBuffer.wrap(plain, 0, c.length());
                long pos = c.offset();
                while (b.hasRemaining()) {
                    pos += slot.write(b, pos);
                }
                whole.update(plain, 0, c.length());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                free.add(plain);
            }
        }));
        rethrowFailures(false);
    }

    /** Hands back a buffer that was not written (the chunk failed its check). */
    void discard(byte[] plain) {
        free.add(plain);
    }

    /** Every queued chunk written and flushed, then {@code chunks} recorded as in the slot. */
    void checkpoint(int chunks) throws IOException {
        rethrowFailures(true);
        slot.force(false);
        written.chunksWritten = chunks;
        save();
    }

    /** Every queued chunk written and flushed, and the record saved as it is (a run that stops early). */
    void flush() throws IOException {
        rethrowFailures(true);
        slot.force(false);
        save();
    }

    /** The digest of the whole image, once every chunk is written. */
    String digest() throws IOException {
        rethrowFailures(true);
        return "sha256:" + HexFormat.of().formatHex(whole.digest());
    }

    void save() throws IOException {
        AtomicFiles.write(recordFile(work), JSON.writeValueAsBytes(written));
        long bytes = written.fetchBytes + written.chunkBytesFetched;
        int chunks = written.chunksWritten;
        log.record(c -> c.bytesFetched(bytes).chunksWritten(chunks));
    }

    private void rethrowFailures(boolean all) throws IOException {
        while (!pending.isEmpty() && (all || pending.peek().isDone())) {
            try {
                pending.poll().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while writing the slot");
            } catch (ExecutionException e) {
                Throwable cause = e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
                if (cause instanceof IOException io) {
                    throw io;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw new IOException("writing the slot failed: " + cause, cause);
            }
        }
    }

    /** Waits for the writes already started (the slot is closed after this), then stops the thread. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            thread.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
