package io.hupd.image.cache;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * A file read by a thread of its own, which hashes each chunk before handing it over: the reader (the layer
 * flattener, busy inflating and parsing) no longer pays for SHA-256 of the compressed blob, which runs on the other
 * core. A few chunks are read ahead, no more, so memory stays a fixed {@code CHUNKS * CHUNK} bytes.
 *
 * <p>The digest and the byte count are complete once the stream has been read to its end: {@link #size} returns the
 * count, the caller's digest holds the hash. A read error on the thread is raised by the next read.
 */
final class HashingReadAhead extends InputStream {
    private static final int CHUNK = 256 * 1024;
    private static final int CHUNKS = 4;
    /** Marks the end of the file (or the limit) in the queue. */
    private static final ByteBuffer END = ByteBuffer.allocate(0);

    private final BlockingQueue<ByteBuffer> full = new ArrayBlockingQueue<>(CHUNKS + 1);
    private final BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(CHUNKS);
    private final MessageDigest md;
    private final Thread reader;
    private volatile IOException failure;
    private volatile boolean closed;
    private long size;
    private ByteBuffer current;
    private boolean atEnd;

    /**
     * @param limit bytes to read at most: a file longer than that shows as {@code limit} bytes long, enough to tell
     *     it is too long without reading all of it
     */
    HashingReadAhead(Path file, MessageDigest md, long limit) throws IOException {
        this(FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS), md, limit);
    }

    /** As {@link #HashingReadAhead(Path, MessageDigest, long)}, from a channel it closes when done. */
    HashingReadAhead(ReadableByteChannel ch, MessageDigest md, long limit) {
        this.md = md;
        for (int i = 0; i < CHUNKS; i++) {
            free.add(ByteBuffer.allocate(CHUNK));
        }
        reader = new Thread(() -> readAll(ch, limit), "hupd-blob-read-ahead");
        reader.setDaemon(true);
        reader.start();
    }

    private void readAll(ReadableByteChannel ch, long limit) {
        try (ch) {
            long left = limit;
            while (left > 0 && !closed) {
                ByteBuffer b = free.take();
                b.clear();
                b.limit((int) Math.min(b.capacity(), left));
                int n = ch.read(b);
                if (n < 0) {
                    free.add(b);
                    break;
                }
                while (b.hasRemaining() && n >= 0) {
                    n = ch.read(b);
                }
                b.flip();
                md.update(b.array(), 0, b.limit());
                size += b.limit();
                left -= b.limit();
                full.put(b);
                if (n < 0) {
                    break;
                }
            }
        } catch (IOException e) {
            failure = e;
        } catch (InterruptedException e) {
            failure = new InterruptedIOException("blob read-ahead interrupted");
        } finally {
            // Never blocks: the queue holds the CHUNKS buffers at most, and one more place is kept for this.
            full.offer(END);
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (current == null || !current.hasRemaining()) {
            if (atEnd) {
                return -1;
            }
            if (current != null) {
                free.add(current);
                current = null;
            }
            ByteBuffer next = take();
            if (next == END) {
                atEnd = true;
                if (failure != null) {
                    throw failure;
                }
                return -1;
            }
            current = next;
        }
        int n = Math.min(len, current.remaining());
        current.get(b, off, n);
        return n;
    }

    private ByteBuffer take() throws IOException {
        try {
            return full.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading a blob");
        }
    }

    /** Stops the thread without reading further; the digest is then of a part of the file only. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        // Unblock the thread if it waits for a free buffer; it sees `closed` and ends.
        while (!atEnd) {
            ByteBuffer next = take();
            if (next == END) {
                atEnd = true;
            } else {
                free.offer(next);
            }
        }
        join();
    }

    private void join() throws IOException {
        try {
            reader.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading a blob");
        }
    }

    /**
     * The bytes read and hashed, once the stream has reached its end.
     *
     * @throws IllegalStateException before the end
     */
    long size() {
        if (!atEnd) {
            throw new IllegalStateException("the blob has not been read to its end");
        }
        return size;
    }
}
