package io.hupd.persistence;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.util.concurrent.atomic.AtomicLong;
import org.h2.store.fs.FilePath;
import org.h2.store.fs.FilePathWrapper;

/**
 * An H2 file system ({@code syncspy:}) that counts the bytes written and not yet forced to disk: what a power cut
 * at that moment could lose.
 */
public final class SyncSpyFilePath extends FilePathWrapper {
    public static final AtomicLong UNSYNCED_BYTES = new AtomicLong();
    public static final AtomicLong FORCES = new AtomicLong();

    public static void register() {
        FilePath.register(new SyncSpyFilePath());
    }

    @Override
    public String getScheme() {
        return "syncspy";
    }

    @Override
    public FileChannel open(String mode) throws IOException {
        return new Spy(getBase().open(mode));
    }

    private static final class Spy extends FileChannel {
        private final FileChannel base;

        Spy(FileChannel base) {
            this.base = base;
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
            int n = base.write(src);
            UNSYNCED_BYTES.addAndGet(n);
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long n = base.write(srcs, offset, length);
            UNSYNCED_BYTES.addAndGet(n);
            return n;
        }

        @Override
        public long position() throws IOException {
            return base.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            base.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return base.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            base.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            base.force(metaData);
            UNSYNCED_BYTES.set(0);
            FORCES.incrementAndGet();
        }

        @Override
        public long transferTo(long position, long count, java.nio.channels.WritableByteChannel target)
                throws IOException {
            return base.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(java.nio.channels.ReadableByteChannel src, long position, long count)
                throws IOException {
            long n = base.transferFrom(src, position, count);
            UNSYNCED_BYTES.addAndGet(n);
            return n;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return base.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            int n = base.write(src, position);
            UNSYNCED_BYTES.addAndGet(n);
            return n;
        }

        @Override
        public java.nio.MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            throw new UnsupportedOperationException("mapped files would bypass the spy");
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
