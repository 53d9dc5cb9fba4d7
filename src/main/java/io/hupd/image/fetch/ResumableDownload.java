package io.hupd.image.fetch;

import io.hupd.fs.AtomicFiles;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.Digests;
import io.hupd.image.oci.ImageSourceException;
import io.hupd.image.oci.Text;
import io.hupd.image.registry.RegistryClient.BlobBody;
import io.hupd.image.registry.RegistryException;
import io.hupd.ports.DataPartition;
import io.hupd.ports.Progress;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;

/**
 * One blob into the {@link BlobStore}, resumable: the bytes received so far stay in {@code .partial-<hex>} next
 * to where the blob will go (the data partition, so they survive a restart), and an interrupted download asks
 * for the rest with a Range request. The sha256 state is carried in memory within a process and recomputed
 * from the partial file after a restart, so every byte is hashed exactly as it will be stored. The blob is only
 * renamed to its digest name once the size and digest match.
 */
public final class ResumableDownload {
    /** Opens the blob from an offset; see {@link io.hupd.image.registry.RegistryClient#blob}. */
    @FunctionalInterface
    interface Opener {
        BlobBody open(long offset, long remaining) throws IOException;
    }

    private static final int BUFFER = 128 * 1024;
    private final Descriptor d;
    private final BlobStore store;
    private final Path partial;
    private final int maxStalls;
    private final long progressFloor;
    private MessageDigest md;
    private long have;
    /** Bytes that came over the wire for this blob, in this process. */
    private long wire;

    /**
     * @param maxStalls interruptions in a row without progress before giving up
     * @param progressFloor the fewest new bytes an interrupted try must bring to count as progress (the low-speed
     *     limit): a registry that drips a few bytes per try must not be resumed a hundred times
     */
    ResumableDownload(Descriptor d, BlobStore store, int maxStalls, long progressFloor) {
        this.d = d;
        this.store = store;
        this.partial = partialPath(store, d);
        this.maxStalls = maxStalls;
        this.progressFloor = Math.max(1, progressFloor);
    }

    public static Path partialPath(BlobStore store, Descriptor d) {
        return store.path(d.digest()).resolveSibling(BlobStore.PARTIAL_PREFIX + d.hex());
    }

    /** Bytes of this blob already verified-so-far in the cache (re-hashed), for the progress total. */
    long resumeFrom() throws IOException {
        loadPartial();
        return have;
    }

    /**
     * @return bytes transferred over the network for this blob
     * @throws ImageSourceException for a blob that is not what its descriptor says, or a registry that keeps
     *     failing (the verified partial bytes are kept for the next try, unless they turned out wrong)
     */
    long run(Opener opener, Progress progress, String source) throws IOException {
        if (md == null) {
            loadPartial();
        }
        boolean resumedFromDisk = have > 0;
        int stalls = 0;
        int resumes = 0;
        while (true) {
            long before = have;
            try {
                if (have < d.size()) {
                    receive(opener, progress, source);
                }
                return finish(source);
            } catch (DigestMismatch e) {
                discard();
                if (!resumedFromDisk) {
                    throw e;
                }
                // The kept bytes may be from an earlier, bad source or damaged on disk: one fresh try decides.
                resumedFromDisk = false;
            } catch (RegistryException e) {
                if (!e.retryable()) {
                    throw e;
                }
                stalls = have - before >= progressFloor ? 0 : stalls + 1;
                // a point between tries where an operator's abort may stop the download (UpdateRunner)
                progress.advance(0);
                if (stalls >= maxStalls || ++resumes > 100) {
                    throw new ImageSourceException(source + ": " + e.getMessage() + " (gave up after "
                            + (stalls >= maxStalls ? stalls + " tries without progress" : resumes + " resumes")
                            + "; the " + have + " bytes received are kept for the next try)", e);
                }
            }
        }
    }

    long wireBytes() {
        return wire;
    }

    private void receive(Opener opener, Progress progress, String source) throws IOException {
        try (BlobBody body = opener.open(have, d.size() - have)) {
            if (body.start() != have) {
                if (body.start() != 0) {
                    throw new RegistryException(source + ": asked for blob " + d.digest() + " from byte " + have
                            + " but the registry sent it from byte " + body.start(), false);
                }
                // The registry ignored the Range request: start over with what it sends.
                truncate(0);
            }
            if (body.total() >= 0 && body.total() != d.size()) {
                throw new ImageSourceException(source + ": blob " + d.digest() + " is " + body.total()
                        + " bytes on the registry, the manifest says " + d.size());
            }
            FileStore space = Files.getFileStore(partial.getParent());
            try (OutputStream out = new FileOutputStream(partial.toFile(), true)) {
                byte[] buf = new byte[BUFFER];
                InputStream in = body.in();
                while (true) {
                    long room = d.size() - have;
                    int n;
                    try {
                        n = in.read(buf, 0, room >= buf.length ? buf.length : (int) room + 1);
                    } catch (RegistryException e) {
                        throw e;
                    } catch (IOException e) {
                        throw new RegistryException(source + ": blob " + d.digest() + " was cut after " + have
                                + " of " + d.size() + " bytes: " + describe(e), true, e);
                    }
                    if (n < 0) {
                        break;
                    }
                    if (have + n > d.size()) {
                        discard();
                        throw new ImageSourceException(source + ": blob " + d.digest()
                                + " is larger than its declared size " + d.size() + " bytes");
                    }
                    long free = space.getUsableSpace();
                    if (free - n < DataPartition.MIN_FREE_BYTES) {
                        throw outOfSpace(source, "it is down to " + free + " bytes free, and a download stops "
                                + DataPartition.MIN_FREE_BYTES + " bytes short of full");
                    }
                    // Written before it is hashed and counted: the partial file never holds less than the state.
                    try {
                        out.write(buf, 0, n);
                    } catch (IOException e) {
                        throw outOfSpace(source, "writing failed: " + describe(e));
                    }
                    md.update(buf, 0, n);
                    have += n;
                    wire += n;
                    progress.advance(n);
                }
            }
            if (have < d.size()) {
                throw new RegistryException(source + ": blob " + d.digest() + " ended after " + have + " of "
                        + d.size() + " bytes", true);
            }
        }
    }

    /**
     * The data partition is the user's: a download that would fill it ends as an ordinary failure, and its
     * partial file goes at once (kept, it would leave the partition as full as the download made it).
     */
    private ImageSourceException outOfSpace(String source, String why) throws IOException {
        long had = have;
        discard();
        return new ImageSourceException(source + ": blob " + d.digest() + ": the data partition is full (" + why
                + "); the download stopped after " + had + " of " + d.size() + " bytes and its partial file is removed");
    }

    private long finish(String source) throws IOException {
        String actual = Digests.toDigest(md);
        if (!actual.equals(d.digest())) {
            throw new DigestMismatch(source + ": blob digest mismatch: expected " + d.digest() + ", got " + actual);
        }
        Path target = store.path(d.digest());
        AtomicFiles.forceFile(partial);
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        AtomicFiles.forceDirectory(target.getParent());
        return wire;
    }

    /** Re-hashes what an earlier run kept, so the digest of the whole blob can be checked at its end. */
    private void loadPartial() throws IOException {
        Files.createDirectories(partial.getParent());
        md = Digests.newSha256();
        have = 0;
        if (Files.isSymbolicLink(partial) || (Files.exists(partial, LinkOption.NOFOLLOW_LINKS)
                && !Files.isRegularFile(partial, LinkOption.NOFOLLOW_LINKS))) {
            Files.delete(partial);
        }
        long size;
        try {
            size = Files.size(partial);
        } catch (NoSuchFileException e) {
            Files.createFile(partial);
            return;
        }
        if (size > d.size()) {
            truncate(0);
            return;
        }
        try (InputStream in = Files.newInputStream(partial, LinkOption.NOFOLLOW_LINKS)) {
            byte[] buf = new byte[BUFFER];
            int n;
            while (have < size && (n = in.read(buf, 0, (int) Math.min(buf.length, size - have))) > 0) {
                md.update(buf, 0, n);
                have += n;
            }
        }
        if (have != size) {
            truncate(0);
        }
    }

    private void truncate(long length) throws IOException {
        try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.WRITE)) {
            ch.truncate(length);
        }
        md = Digests.newSha256();
        have = 0;
    }

    private void discard() throws IOException {
        Files.deleteIfExists(partial);
        md = Digests.newSha256();
        have = 0;
    }

    private static final class DigestMismatch extends ImageSourceException {
        DigestMismatch(String message) {
            super(message);
        }
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : Text.firstLine(m);
    }
}
