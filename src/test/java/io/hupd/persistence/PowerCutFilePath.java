package io.hupd.persistence;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.h2.store.fs.FilePath;
import org.h2.store.fs.FilePathWrapper;

/**
 * An H2 file system ({@code powercut:}) that can cut the power: every write not yet forced to disk is remembered
 * with the bytes it overwrote, and {@link #cut} puts those bytes back (the last write optionally torn, half
 * landed), as a disk would after losing its cache. {@link #cutBeforeWrite} makes the N-th write from now throw
 * {@link PowerCut} instead of happening.
 */
public final class PowerCutFilePath extends FilePathWrapper {
    /** The power went: thrown where the write would have been. */
    public static final class PowerCut extends Error {
        PowerCut() {
            super("simulated power cut");
        }
    }

    private record Undo(long position, byte[] old, long oldSize, int length) {}

    private static final Map<String, List<Undo>> UNSYNCED = new LinkedHashMap<>();
    private static int countdown = -1;
    private static long writes;
    private static long forces;

    public static void register() {
        FilePath.register(new PowerCutFilePath());
    }

    /**
     * Arms the cut for the N-th write from now (-1: never). What earlier runs left unforced is forgotten: those
     * files belong to other tests (and may be deleted by now), and a cut must only undo this run's writes.
     */
    public static synchronized void cutBeforeWrite(int n) {
        countdown = n;
        writes = 0;
        UNSYNCED.clear();
    }

    public static synchronized long writes() {
        return writes;
    }

    /** Bytes written and not yet forced to disk: what a power cut now would lose. */
    public static synchronized long unsyncedBytes() {
        return UNSYNCED.values().stream().flatMap(List::stream).mapToLong(Undo::length).sum();
    }

    /** Disarms the cut and forgets what earlier tests left unforced, so that a count starts from this test's writes. */
    public static synchronized void reset() {
        cutBeforeWrite(-1);
    }

    public static synchronized long forces() {
        return forces;
    }

    /** Drops every unforced write (the last one torn when asked); returns how many were dropped. */
    public static synchronized int cut(boolean tearLast) throws IOException {
        int dropped = 0;
        for (Map.Entry<String, List<Undo>> e : UNSYNCED.entrySet()) {
            List<Undo> undos = e.getValue();
            try (RandomAccessFile f = new RandomAccessFile(e.getKey(), "rw")) {
                for (int i = undos.size() - 1; i >= 0; i--) {
                    Undo u = undos.get(i);
                    boolean torn = tearLast && i == undos.size() - 1 && u.old().length > 512;
                    // a torn write: its first sector landed, the rest did not
                    int keep = torn ? 512 : 0;
                    f.seek(u.position() + keep);
                    f.write(u.old(), keep, u.old().length - keep);
                    if (!torn) {
                        f.setLength(Math.max(u.oldSize(), Math.min(f.length(), u.oldSize())));
                    }
                    dropped++;
                }
            }
        }
        UNSYNCED.clear();
        countdown = -1;
        return dropped;
    }

    @Override
    public String getScheme() {
        return "powercut";
    }

    @Override
    public FileChannel open(String mode) throws IOException {
        return new Channel(getBase().open(mode), getBase().toRealPath().toString());
    }

    private static synchronized void beforeWrite(FileChannel base, String file, long position, int length)
            throws IOException {
        if (countdown == 0) {
            throw new PowerCut();
        }
        if (countdown > 0) {
            countdown--;
        }
        writes++;
        long size = base.size();
        int overlap = (int) Math.max(0, Math.min(length, size - position));
        ByteBuffer old = ByteBuffer.allocate(overlap);
        while (old.hasRemaining() && base.read(old, position + old.position()) > 0) {
            // read what the write will overwrite
        }
        UNSYNCED.computeIfAbsent(file, k -> new ArrayList<>()).add(new Undo(position, old.array(), size, length));
    }

    private static synchronized void synced(String file) {
        forces++;
        UNSYNCED.remove(file);
    }

    private static final class Channel extends FileChannel {
        private final FileChannel base;
        private final String file;

        Channel(FileChannel base, String file) {
            this.base = base;
            this.file = file;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return base.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return base.read(dsts, offset, length);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            beforeWrite(base, file, base.position(), src.remaining());
            return base.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long total = 0;
            for (int i = offset; i < offset + length; i++) {
                total += write(srcs[i]);
            }
            return total;
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            beforeWrite(base, file, position, src.remaining());
            return base.write(src, position);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return base.read(dst, position);
        }

        @Override
        public long position() throws IOException {
            return base.position();
        }

        @Override
        public FileChannel position(long p) throws IOException {
            base.position(p);
            return this;
        }

        @Override
        public long size() throws IOException {
            return base.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            long old = base.size();
            if (size < old) {
                beforeWrite(base, file, size, (int) Math.min(Integer.MAX_VALUE, old - size));
            }
            base.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            base.force(metaData);
            synced(file);
        }

        @Override
        public long transferTo(long position, long count, java.nio.channels.WritableByteChannel target)
                throws IOException {
            return base.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(java.nio.channels.ReadableByteChannel src, long position, long count) {
            throw new UnsupportedOperationException("H2 does not transfer into its files");
        }

        @Override
        public java.nio.MappedByteBuffer map(MapMode mode, long position, long size) {
            throw new UnsupportedOperationException("mapped files would bypass the power cut");
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return base.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return base.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            base.close();
        }
    }
}
