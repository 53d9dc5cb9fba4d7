package io.hupd.image.cache;

import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.Digests;
import io.hupd.image.oci.ImageSourceException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Reads a blob while the fetch is still writing it into the cache, so that the layer can be checked during the
 * download instead of after it. It follows whatever file the blob is being written to ({@link
 * BlobStore#fileBeingWritten}) and waits at the end of what is written until the writer is done.
 *
 * <p>It trusts nothing about the writer: what it read is hashed on the way, and {@link #readWhatWasVerified} says
 * whether those bytes are exactly the blob's (its size and digest). A writer that started over (a resume refused, the
 * next source), a blob that was already in the cache, a fetch that failed: each simply ends in "no", and the caller
 * reads the stored blob as before.
 */
public final class BlobFollower {
    private static final long POLL_MILLIS = 10;

    private final BlobStore store;
    private final Descriptor d;
    private final MessageDigest md = Digests.newSha256();
    private volatile boolean writerDone;
    private volatile boolean writerFailed;
    private HashingReadAhead stream;

    public BlobFollower(BlobStore store, Descriptor d) {
        this.store = store;
        this.d = d;
    }

    /** The writer finished: what the file holds now is all it will hold. */
    public void writerDone() {
        writerDone = true;
    }

    /** The writer gave up: the reader stops with an error instead of waiting. */
    public void writerFailed() {
        writerFailed = true;
    }

    /**
     * The blob's bytes as they are written; blocks while the writer is behind. Fails when no file is being written
     * by the time the writer is done (the blob was already cached), or when the writer failed.
     */
    public InputStream open() throws IOException {
        Path file = awaitFile();
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new ImageSourceException("blob " + d.digest() + " was written before it could be followed");
        }
        HashingReadAhead hashing = new HashingReadAhead(new Growing(ch), md, d.size() + 1);
        stream = hashing;
        // A reader may stop before the end (a tar reader at the end-of-archive blocks, a refusal): closing reads
        // the rest, so that the digest is of the whole file.
        return new java.io.FilterInputStream(hashing) {
            @Override
            public void close() throws IOException {
                try {
                    byte[] rest = new byte[64 * 1024];
                    while (hashing.read(rest, 0, rest.length) >= 0) {
                        // hashed by the read-ahead
                    }
                } finally {
                    hashing.close();
                }
            }
        };
    }

    /** True when what the stream gave, read to its end, is the blob the descriptor names. */
    public boolean readWhatWasVerified() {
        if (stream == null) {
            return false;
        }
        try {
            return stream.size() == d.size() && Digests.toDigest(md).equals(d.digest());
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private Path awaitFile() throws IOException {
        while (true) {
            boolean done = writerDone;
            Optional<Path> file = store.fileBeingWritten(d);
            if (file.isPresent()) {
                return file.get();
            }
            if (done || writerFailed) {
                throw new ImageSourceException("blob " + d.digest() + " was not written by this fetch");
            }
            pause();
        }
    }

    private void pause() throws InterruptedIOException {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while following a blob");
        }
    }

    /** The file as it grows: at its end, waits for more until the writer is done (the file keeps its inode when the
     * writer renames it into the cache, so the open channel reads on). */
    private final class Growing implements ReadableByteChannel {
        private final FileChannel ch;

        Growing(FileChannel ch) {
            this.ch = ch;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            while (true) {
                boolean done = writerDone;
                int n = ch.read(dst);
                if (n != -1) {
                    return n;
                }
                if (done) {
                    return -1;
                }
                if (writerFailed) {
                    throw new ImageSourceException("the fetch of blob " + d.digest() + " failed");
                }
                pause();
            }
        }

        @Override
        public boolean isOpen() {
            return ch.isOpen();
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
