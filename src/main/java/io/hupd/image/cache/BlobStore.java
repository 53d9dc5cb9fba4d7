package io.hupd.image.cache;

import io.hupd.fs.AtomicFiles;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.Digests;
import io.hupd.image.oci.ImageSourceException;
import io.hupd.ports.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Content-addressed blob cache, laid out like an OCI layout's {@code blobs/} ({@code DIR/blobs/sha256/<hex>}).
 * A blob is only ever renamed into place after its size and digest matched, so a crash mid-download leaves a
 * temp file, never a wrong blob under a digest name.
 */
public final class BlobStore {
    /**
     * The name prefix of a blob a download has begun, kept across restarts for resume;
     * {@link BlobCachePruner} removes those no update will resume.
     */
    public static final String PARTIAL_PREFIX = ".partial-";
    private static final int BUFFER = 128 * 1024;
    private final Path dir;

    public BlobStore(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** @throws IllegalArgumentException when {@code digest} is not {@code sha256:<64 hex>} */
    public Path path(String digest) {
        Digests.requireSha256(digest);
        return shaDir().resolve(digest.substring(Digests.PREFIX.length()));
    }

    private Path shaDir() {
        return dir.resolve("blobs").resolve("sha256");
    }

    /** Present with the declared size; the content is re-hashed only by {@link #verify}. */
    public boolean has(Descriptor d) {
        try {
            BasicFileAttributes a = Files.readAttributes(path(d.digest()), BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            return a.isRegularFile() && a.size() == d.size();
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The file a blob is being written to right now, by {@link #put} or by a registry download: the newest of its
     * {@code .tmp-} or {@code .partial-} files; empty when there is none.
     */
    public java.util.Optional<Path> fileBeingWritten(Descriptor d) throws IOException {
        Path dirOfBlobs = path(d.digest()).getParent();
        Path newest = null;
        long newestTime = Long.MIN_VALUE;
        if (!Files.isDirectory(dirOfBlobs, LinkOption.NOFOLLOW_LINKS)) {
            return java.util.Optional.empty();
        }
        try (java.nio.file.DirectoryStream<Path> files = Files.newDirectoryStream(dirOfBlobs)) {
            for (Path p : files) {
                String name = p.getFileName().toString();
                if (name.startsWith(".tmp-" + d.hex() + "-") || name.equals(PARTIAL_PREFIX + d.hex())) {
                    try {
                        long t = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                                .lastModifiedTime().toMillis();
                        if (t > newestTime) {
                            newest = p;
                            newestTime = t;
                        }
                    } catch (NoSuchFileException e) {
                        // renamed or removed while listed
                    }
                }
            }
        }
        return java.util.Optional.ofNullable(newest);
    }

    /**
     * Streams {@code in} into the store while hashing it, reading at most one byte more than {@code d.size()}
     * (so an endless stream is cut off at once). Calls only {@link Progress#advance}; the caller starts and
     * finishes the task.
     *
     * @return the bytes written
     * @throws ImageSourceException when the content is longer or shorter than declared or its digest differs;
     *     nothing is left in the store then
     */
    public long put(Descriptor d, InputStream in, Progress progress) throws IOException {
        Path target = path(d.digest());
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling(".tmp-" + d.hex() + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        MessageDigest md = Digests.newSha256();
        long written = 0;
        try {
            try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                byte[] buf = new byte[BUFFER];
                while (true) {
                    long room = d.size() - written;
                    int n = in.read(buf, 0, room >= buf.length ? buf.length : (int) room + 1);
                    if (n < 0) {
                        break;
                    }
                    written += n;
                    if (written > d.size()) {
                        throw new ImageSourceException("blob " + d.digest() + " is larger than its declared size "
                                + d.size() + " bytes");
                    }
                    md.update(buf, 0, n);
                    out.write(buf, 0, n);
                    progress.advance(n);
                }
            }
            if (written < d.size()) {
                throw new ImageSourceException("blob " + d.digest() + " is truncated: got " + written + " of "
                        + d.size() + " bytes");
            }
            String actual = Digests.toDigest(md);
            if (!actual.equals(d.digest())) {
                throw new ImageSourceException("blob digest mismatch: expected " + d.digest() + ", got " + actual);
            }
            AtomicFiles.forceFile(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            AtomicFiles.forceDirectory(target.getParent());
            return written;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Opens a stored blob for a reader that hashes it on the way: the layer flattener reads each byte once
     * instead of once to verify and once to extract, and the hashing runs on a thread of its own (see
     * {@link HashingReadAhead}). {@link VerifyingStream#close} reads whatever the reader left (tar padding, a reader
     * that stopped early), so {@link VerifyingStream#check} has seen every byte.
     *
     * @throws ImageSourceException when it is missing from the store
     */
    public VerifyingStream openVerifying(Descriptor d) throws IOException {
        Path p = path(d.digest());
        MessageDigest md = Digests.newSha256();
        try {
            // one byte past the declared size is enough to know the blob is too long
            return new VerifyingStream(d, p, md, new HashingReadAhead(p, md, d.size() + 1));
        } catch (NoSuchFileException e) {
            throw new ImageSourceException("blob " + d.digest() + " is missing from the store " + dir);
        }
    }

    /** A stored blob being read and hashed; see {@link #openVerifying}. */
    public static final class VerifyingStream extends java.io.FilterInputStream {
        private final Descriptor d;
        private final Path file;
        private final MessageDigest md;
        private final HashingReadAhead hashing;
        private boolean closed;

        private VerifyingStream(Descriptor d, Path file, MessageDigest md, HashingReadAhead hashing) {
            super(hashing);
            this.d = d;
            this.file = file;
            this.md = md;
            this.hashing = hashing;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return in.read(b, off, len);
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                byte[] buf = new byte[BUFFER];
                while (read(buf, 0, buf.length) >= 0) {
                    // the read-ahead hashes what it hands over
                }
            } finally {
                in.close();
            }
        }

        /**
         * Closes the stream (reading the rest) and compares size and digest with the descriptor, as
         * {@link BlobStore#verify} does.
         *
         * @throws ImageSourceException when they differ; the wrong blob is deleted
         */
        public void check() throws IOException {
            close();
            judge(d, hashing.size(), md, file);
        }
    }

    /**
     * Re-hashes a stored blob.
     *
     * @throws ImageSourceException when it is missing, has the wrong size or digest (a wrong blob is deleted)
     */
    public void verify(Descriptor d) throws IOException {
        Path p = path(d.digest());
        MessageDigest md = Digests.newSha256();
        long size = 0;
        try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
            byte[] buf = new byte[BUFFER];
            int n;
            while ((n = in.read(buf)) >= 0) {
                md.update(buf, 0, n);
                size += n;
                if (size > d.size()) {
                    break;
                }
            }
        } catch (NoSuchFileException e) {
            throw new ImageSourceException("blob " + d.digest() + " is missing from the store " + dir);
        }
        judge(d, size, md, p);
    }

    /** A stored blob whose size or digest is not the descriptor's is deleted, so the next fetch replaces it. */
    private static void judge(Descriptor d, long size, MessageDigest md, Path file) throws IOException {
        String problem = null;
        if (size != d.size()) {
            problem = "blob " + d.digest() + " in the store has " + (size > d.size() ? "more than " : "")
                    + size + " bytes, expected " + d.size();
        } else {
            String actual = Digests.toDigest(md);
            if (!actual.equals(d.digest())) {
                problem = "blob " + d.digest() + " in the store is corrupt: its content hashes to " + actual;
            }
        }
        if (problem != null) {
            Files.deleteIfExists(file);
            throw new ImageSourceException(problem + " (deleted)");
        }
    }
}
