package io.hupd.image.fsimage;

import java.util.zip.CRC32C;

/**
 * Content-defined chunking at block granularity. ext4 moves data in whole blocks, so a cut decided by each 4 KiB
 * block's own content finds the same boundaries again after an insertion shifts what follows: an image and its
 * successor share every chunk outside the blocks that changed. A chunk is cut after a block whose CRC-32C has its
 * low bits zero, once it is at least {@link #MIN_CHUNK}, and always at {@link #MAX_CHUNK}.
 */
public final class Chunker {
    public static final int BLOCK = 4096;
    public static final int MIN_CHUNK = 64 * 1024;
    public static final int MAX_CHUNK = 256 * 1024;
    /** One block in 16 ends a chunk once past the minimum: chunks average about 128 KiB. */
    private static final int CUT_MASK = 0xF;

    private final CRC32C blockCrc = new CRC32C();

    /**
     * Where the chunk that starts at {@code buf[start]} ends, given {@code available} bytes from there; -1 when
     * more bytes are needed to know (fewer than {@link #MAX_CHUNK} available and no cut found), unless
     * {@code atEnd}, when the rest is the last chunk.
     */
    public int cut(byte[] buf, int start, int available, boolean atEnd) {
        int pos = 0;
        while (pos + BLOCK <= available) {
            pos += BLOCK;
            if (pos >= MAX_CHUNK) {
                return MAX_CHUNK;
            }
            if (pos >= MIN_CHUNK) {
                blockCrc.reset();
                blockCrc.update(buf, start + pos - BLOCK, BLOCK);
                if ((blockCrc.getValue() & CUT_MASK) == 0) {
                    return pos;
                }
            }
        }
        return atEnd ? available : -1;
    }

    /** The CRC-32C the index keeps of a chunk's bytes. */
    public static int crc(byte[] buf, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(buf, off, len);
        return (int) c.getValue();
    }
}
