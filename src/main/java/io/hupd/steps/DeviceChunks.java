package io.hupd.steps;

import io.hupd.image.fsimage.ChunkIndex;
import io.hupd.image.fsimage.Chunker;
import io.hupd.machine.UpdateContext;
import io.hupd.device.Device;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * The chunks the device already holds: a chunk of zeros (free space, most of a fresh filesystem: neither
 * fetched nor decompressed), and the filesystem in the running root, cut the way images are cut and keyed by
 * length and CRC-32C. A candidate is used only once its SHA-256 is the index's. Nothing is found in the running
 * root when it is not ext4 or cannot be read.
 */
final class DeviceChunks implements AutoCloseable {
    /** Read in large pieces: the running root is read once, front to back, and cut in memory. */
    private static final int READ_BYTES = 4 << 20;

    private final Map<Long, Long> offsets;
    private final FileChannel running;
    private final MessageDigest md = FsImageInstall.sha256();
    /** By chunk length: the CRC-32C and the digest of that many zero bytes (chunk lengths are few). */
    private final Map<Integer, Integer> zeroCrcs = new HashMap<>();
    private final Map<Integer, String> zeroDigests = new HashMap<>();

    private DeviceChunks(Map<Long, Long> offsets, FileChannel running) {
        this.offsets = offsets;
        this.running = running;
    }

    static DeviceChunks none() {
        return new DeviceChunks(Map.of(), null);
    }

    static DeviceChunks index(Device device, UpdateContext ctx, StepLog log) {
        FileChannel running = null;
        try {
            running = device.slots().openRaw(ctx.activeSlot(), false);
            Map<Long, Long> found = cut(running, ext4Size(running));
            log.info("indexed the running root (slot " + ctx.activeSlot() + "): " + found.size() + " chunks");
            if (found.isEmpty()) {
                running.close();
                return none();
            }
            return new DeviceChunks(found, running);
        } catch (IOException | UnsupportedOperationException e) {
            closeQuietly(running);
            log.warn("the running root cannot be indexed, every chunk is fetched: " + e.getMessage());
            return none();
        }
    }

    boolean has(ChunkIndex.Chunk c) {
        return isZeros(c) || offsets.containsKey(key(c.length(), c.crc32c()));
    }

    /** Reads the chunk from what the device holds into {@code plain}; false unless its digest is the index's. */
    boolean read(ChunkIndex.Chunk c, byte[] plain) throws IOException {
        if (isZeros(c)) {
            java.util.Arrays.fill(plain, 0, c.length(), (byte) 0);
            return true;
        }
        Long at = offsets.get(key(c.length(), c.crc32c()));
        if (at == null) {
            return false;
        }
        ByteBuffer b = ByteBuffer.wrap(plain, 0, c.length());
        long pos = at;
        while (b.hasRemaining()) {
            int r = running.read(b, pos);
            if (r < 0) {
                return false;
            }
            pos += r;
        }
        md.reset();
        md.update(plain, 0, c.length());
        return c.digest().equals("sha256:" + HexFormat.of().formatHex(md.digest()));
    }

    /** A chunk of zeros by its digest in the index, not by a guess from its CRC alone. */
    private boolean isZeros(ChunkIndex.Chunk c) {
        int crc = zeroCrcs.computeIfAbsent(c.length(), n -> Chunker.crc(new byte[n], 0, n));
        if (crc != c.crc32c()) {
            return false;
        }
        String digest = zeroDigests.computeIfAbsent(c.length(), n -> {
            md.reset();
            return "sha256:" + HexFormat.of().formatHex(md.digest(new byte[n]));
        });
        return digest.equals(c.digest());
    }

    @Override
    public void close() {
        closeQuietly(running);
    }

    private static Map<Long, Long> cut(FileChannel running, long size) throws IOException {
        Map<Long, Long> found = new HashMap<>();
        Chunker chunker = new Chunker();
        byte[] buf = new byte[READ_BYTES + Chunker.MAX_CHUNK];
        int start = 0;
        int have = 0;
        long offset = 0;
        long pos = 0;
        while (true) {
            // moved to the front only when less than a whole chunk is left: one copy per READ_BYTES, not per chunk
            if (have - start < Chunker.MAX_CHUNK && pos < size) {
                System.arraycopy(buf, start, buf, 0, have - start);
                have -= start;
                start = 0;
                while (have < buf.length && pos < size) {
                    int r = running.read(ByteBuffer.wrap(buf, have, (int) Math.min(buf.length - have, size - pos)),
                            pos);
                    if (r < 0) {
                        size = pos;
                        break;
                    }
                    have += r;
                    pos += r;
                }
            }
            if (have == start) {
                return found;
            }
            int len = chunker.cut(buf, start, have - start, pos >= size);
            found.putIfAbsent(key(len, Chunker.crc(buf, start, len)), offset);
            offset += len;
            start += len;
        }
    }

    private static long key(int length, int crc) {
        return ((long) length << 32) | (crc & 0xFFFFFFFFL);
    }

    /** The filesystem's size from its superblock; 0 when it is not ext2/3/4. */
    static long ext4Size(FileChannel ch) throws IOException {
        ByteBuffer sb = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
        while (sb.hasRemaining()) {
            if (ch.read(sb, 1024 + sb.position()) < 0) {
                return 0;
            }
        }
        if ((sb.getShort(0x38) & 0xFFFF) != 0xEF53) {
            return 0;
        }
        int log = sb.getInt(0x18);
        if (log < 0 || log > 6) {
            return 0;
        }
        long blocks = sb.getInt(0x04) & 0xFFFFFFFFL;
        if ((sb.getInt(0x60) & 0x80) != 0) {
            blocks |= (sb.getInt(0x150) & 0xFFFFFFFFL) << 32;
        }
        // a block device's channel has no size (0): the filesystem's is the one to go by there
        long size = ch.size();
        return size > 0 ? Math.min(blocks * (1024L << log), size) : blocks * (1024L << log);
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                // only read from: nothing is lost
            }
        }
    }
}
