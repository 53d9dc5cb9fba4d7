package io.hupd.image.delta;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/**
 * Makes a patch that turns {@code source} into {@code target} (both uncompressed layer tars): a stream of COPY
 * (bytes the device already has in the source) and ADD (new bytes) instructions, compressed as a whole with
 * LZMA2 so that new bytes are also compressed against the target's own earlier content.
 *
 * <p>Matching: every {@link #BLOCK}-byte block of the source is indexed by a hash; the target is scanned with a
 * rolling hash of the same width, and a hit is extended both ways byte by byte. After a copy, the same
 * source-target offset (the "diagonal") is tried first at every byte, so a file with scattered small edits (a
 * rebuilt binary) costs only its changed bytes plus a few bytes per copy, not a whole block per edit.
 *
 * <p>Runs where images are built: it maps both files and holds an index of about {@code source/8} bytes.
 */
public final class PatchEncoder {
    /** Source blocks are indexed at this width: the shortest match found through the index is 2×BLOCK−1. */
    static final int BLOCK = 16;
    /** A copy found on the last diagonal must be at least this long to be cheaper than the bytes. */
    static final int MIN_DIAGONAL_COPY = 12;
    static final int MAX_FILE = Integer.MAX_VALUE - 8;
    private static final long PRIME = 0x100000001b3L;
    private static final long MIX = 0x9E3779B97F4A7C15L;

    private final int preset;

    /** @param preset the xz preset (0–9): 6 keeps the device's decoder at 8 MiB of memory, 9 at 64 MiB */
    public PatchEncoder(int preset) {
        if (preset < 0 || preset > 9) {
            throw new IllegalArgumentException("xz preset must be 0..9: " + preset);
        }
        this.preset = preset;
    }

    /** What the encoder found: the sizes the benchmark and the log report. */
    public record Stats(long targetBytes, long copiedBytes, long addedBytes, long copies) {}

    public Stats encode(Path source, Path target, OutputStream out) throws IOException {
        try (FileChannel sc = FileChannel.open(source, StandardOpenOption.READ);
                FileChannel tc = FileChannel.open(target, StandardOpenOption.READ)) {
            if (sc.size() > MAX_FILE || tc.size() > MAX_FILE) {
                throw new IOException("a layer larger than 2 GiB cannot be delta-encoded");
            }
            ByteBuffer s = sc.size() == 0 ? ByteBuffer.allocate(0) : sc.map(FileChannel.MapMode.READ_ONLY, 0, sc.size());
            ByteBuffer t = tc.size() == 0 ? ByteBuffer.allocate(0) : tc.map(FileChannel.MapMode.READ_ONLY, 0, tc.size());
            BufferedOutputStream sink = new BufferedOutputStream(new NonClosing(out), 1 << 16);
            XZOutputStream xz = new XZOutputStream(sink, options(preset, tc.size(), Runtime.getRuntime().maxMemory()));
            // instructions are written a byte at a time: buffer them before the compressor
            BufferedOutputStream front = new BufferedOutputStream(xz, 1 << 16);
            Writer w = new Writer(front, t);
            PatchFormat.writeHeader(front, t.limit());
            Stats stats;
            Path indexFile = Files.createTempFile(target.toAbsolutePath().getParent(), ".hupd-index", ".tmp");
            try {
                stats = scan(s, t, w, index(s, indexFile));
            } finally {
                Files.deleteIfExists(indexFile);
            }
            front.write(PatchFormat.END);
            front.flush();
            xz.finish();
            sink.flush();
            return stats;
        }
    }

    /**
     * The preset's options with a dictionary no larger than the patch can use (the whole target) nor than a
     * third of the heap allows: xz's encoder for preset 6 takes about 94 MiB, more than the launcher's 64 MiB
     * heap. A smaller dictionary only costs ratio on large layers, and makes the device's decoder smaller still.
     */
    static LZMA2Options options(int preset, long targetBytes, long maxHeap) throws IOException {
        LZMA2Options o = new LZMA2Options(preset);
        int dict = o.getDictSize();
        long fit = Math.max(LZMA2Options.DICT_SIZE_MIN, Long.highestOneBit(Math.max(1, targetBytes + 1024)) << 1);
        dict = (int) Math.min(dict, fit);
        o.setDictSize(dict);
        while (o.getEncoderMemoryUsage() * 1024L > maxHeap / 3 && o.getDictSize() > LZMA2Options.DICT_SIZE_MIN) {
            o.setDictSize(Math.max(LZMA2Options.DICT_SIZE_MIN, o.getDictSize() / 2));
        }
        return o;
    }

    private Stats scan(ByteBuffer s, ByteBuffer t, Writer w, IntBuffer table) throws IOException {
        int sLen = s.limit();
        int tLen = t.limit();
        int mask = table.capacity() - 1;
        int shift = 64 - Integer.numberOfTrailingZeros(table.capacity());
        long outFactor = power(BLOCK - 1);
        long copied = 0;
        long copies = 0;
        int i = 0;
        int lit = 0;
        long diag = Long.MIN_VALUE;
        long h = tLen >= BLOCK ? hash(t, 0) : 0;
        while (i + BLOCK <= tLen) {
            int start = -1;
            int srcStart = -1;
            int len = 0;
            // 1. the diagonal of the last copy: an edit in place resumes there
            if (diag != Long.MIN_VALUE) {
                long c = i + diag;
                if (c >= 0 && c + 8 <= sLen && t.getLong(i) == s.getLong((int) c)) {
                    int f = forward(s, (int) c, t, i);
                    if (f >= MIN_DIAGONAL_COPY) {
                        start = i;
                        srcStart = (int) c;
                        len = f;
                    }
                }
            }
            // 2. the block index: content that moved (a shifted tar entry, a file inserted before it)
            if (start < 0 && table.capacity() > 1) {
                int k = table.get((int) ((h * MIX) >>> shift) & mask);
                if (k != 0) {
                    int c = (k - 1) * BLOCK;
                    if (equal(s, c, t, i, BLOCK)) {
                        int back = 0;
                        while (i - back > lit && c - back > 0 && t.get(i - back - 1) == s.get(c - back - 1)) {
                            back++;
                        }
                        start = i - back;
                        srcStart = c - back;
                        len = back + forward(s, c, t, i);
                    }
                }
            }
            if (start >= 0) {
                w.add(lit, start);
                w.copy(srcStart, len);
                copied += len;
                copies++;
                diag = (long) srcStart - start;
                i = start + len;
                lit = i;
                if (i + BLOCK <= tLen) {
                    h = hash(t, i);
                }
                continue;
            }
            if (i + BLOCK < tLen) {
                h = (h - (t.get(i) & 0xff) * outFactor) * PRIME + (t.get(i + BLOCK) & 0xff);
            }
            i++;
        }
        w.add(lit, tLen);
        return new Stats(tLen, copied, tLen - copied, copies);
    }

    /** Block k of the source is stored as k+1 (0 = empty); a later block with the same hash keeps the first. */
    /**
     * The table lives in a mapped file, not the heap: it is a quarter of the source's size, 64 MiB for a 225 MB
     * layer, and hupd runs in a 64 MiB heap; the page cache holds it instead.
     */
    private static IntBuffer index(ByteBuffer s, Path file) throws IOException {
        int blocks = s.limit() / BLOCK;
        if (blocks == 0) {
            return IntBuffer.allocate(1);
        }
        int size = Integer.highestOneBit(Math.max(blocks, 1) - 1) << 1;
        size = Math.max(size, 1 << 10);
        IntBuffer table;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            table = ch.map(FileChannel.MapMode.READ_WRITE, 0, (long) size * Integer.BYTES).asIntBuffer();
        }
        int mask = size - 1;
        int shift = 64 - Integer.numberOfTrailingZeros(size);
        for (int k = 0; k < blocks; k++) {
            int slot = (int) ((hash(s, k * BLOCK) * MIX) >>> shift) & mask;
            if (table.get(slot) == 0) {
                table.put(slot, k + 1);
            }
        }
        return table;
    }

    private static long hash(ByteBuffer b, int at) {
        long h = 0;
        for (int j = 0; j < BLOCK; j++) {
            h = h * PRIME + (b.get(at + j) & 0xff);
        }
        return h;
    }

    private static long power(int n) {
        long p = 1;
        for (int j = 0; j < n; j++) {
            p *= PRIME;
        }
        return p;
    }

    private static boolean equal(ByteBuffer s, int si, ByteBuffer t, int ti, int n) {
        if (si + n > s.limit()) {
            return false;
        }
        for (int j = 0; j + 8 <= n; j += 8) {
            if (s.getLong(si + j) != t.getLong(ti + j)) {
                return false;
            }
        }
        for (int j = n & ~7; j < n; j++) {
            if (s.get(si + j) != t.get(ti + j)) {
                return false;
            }
        }
        return true;
    }

    /** How many bytes match from {@code s[si]} and {@code t[ti]} on. */
    private static int forward(ByteBuffer s, int si, ByteBuffer t, int ti) {
        int max = Math.min(s.limit() - si, t.limit() - ti);
        int f = 0;
        while (f + 8 <= max && s.getLong(si + f) == t.getLong(ti + f)) {
            f += 8;
        }
        while (f < max && s.get(si + f) == t.get(ti + f)) {
            f++;
        }
        return f;
    }

    /** Writes the instructions; remembers the end of the last copy so that offsets are small numbers. */
    private static final class Writer {
        private final OutputStream out;
        private final ByteBuffer target;
        private final byte[] buf = new byte[1 << 16];
        private long lastCopyEnd;

        Writer(OutputStream out, ByteBuffer target) {
            this.out = out;
            this.target = target;
        }

        void add(int from, int to) throws IOException {
            if (to <= from) {
                return;
            }
            out.write(PatchFormat.ADD);
            PatchFormat.writeVarint(out, to - from);
            ByteBuffer slice = target.duplicate();
            slice.position(from).limit(to);
            while (slice.hasRemaining()) {
                int n = Math.min(buf.length, slice.remaining());
                slice.get(buf, 0, n);
                out.write(buf, 0, n);
            }
        }

        void copy(int from, int len) throws IOException {
            out.write(PatchFormat.COPY);
            PatchFormat.writeVarint(out, len);
            PatchFormat.writeVarint(out, PatchFormat.zigzag(from - lastCopyEnd));
            lastCopyEnd = (long) from + len;
        }
    }

    /** The caller owns the output stream: finishing the xz stream must not close it. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
