package io.hupd.adapters.sim;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The simulated kernel's mount check of an ext4 filesystem: its superblock and group descriptors read straight
 * from the file, without e2fsprogs. Apart from {@link Ext4Image} because it is the one part that reads the
 * on-disk format itself, with its own checksums, rather than asking a tool.
 */
final class Ext4MountCheck {
    private Ext4MountCheck() {
    }

    /*
     * What a kernel checks of an ext4 filesystem before it mounts it (fs/ext4/super.c): the superblock's magic,
     * checksum, features and geometry, and each group descriptor's checksum and where it places the group's
     * bitmaps and inode table. The simulated firmware uses this to decide whether a root boots; hupd's own
     * verification of a slot it wrote stays e2fsck's (isCleanExt4), which also reads every inode and directory.
     */
    private static final int SB_OFFSET = 1024;
    private static final int EXT4_MAGIC = 0xEF53;
    private static final int INCOMPAT_64BIT = 0x80;
    private static final int INCOMPAT_META_BG = 0x10;
    private static final int INCOMPAT_CSUM_SEED = 0x2000;
    /** The incompatible features this simulated kernel mounts (Linux's EXT4_FEATURE_INCOMPAT_SUPP). */
    private static final int INCOMPAT_SUPPORTED = 0x0002 /* filetype */ | 0x0004 /* recover */
            | INCOMPAT_META_BG | 0x0040 /* extents */ | INCOMPAT_64BIT | 0x0100 /* mmp */ | 0x0200 /* flex_bg */
            | 0x0400 /* ea_inode */ | INCOMPAT_CSUM_SEED | 0x4000 /* largedir */ | 0x8000 /* inline_data */
            | 0x10000 /* encrypt */ | 0x20000 /* casefold */;
    private static final int RO_COMPAT_GDT_CSUM = 0x10;
    private static final int RO_COMPAT_METADATA_CSUM = 0x400;
    private static final int STATE_ERRORS = 0x2;

    /** Null when a kernel would mount the filesystem in {@code file}; otherwise why not. */
    static String whyNotMountable(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return "no such file";
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            ByteBuffer sb = read(ch, SB_OFFSET, 1024);
            if (sb == null) {
                return "too small for an ext4 superblock";
            }
            if ((sb.getShort(0x38) & 0xFFFF) != EXT4_MAGIC) {
                return "no ext4 superblock";
            }
            int incompat = sb.getInt(0x60);
            int roCompat = sb.getInt(0x64);
            boolean metadataCsum = (roCompat & RO_COMPAT_METADATA_CSUM) != 0;
            if (metadataCsum && (sb.get(0x175) != 1 || sb.getInt(0x3FC) != crc32c(~0, sb.array(), 0, 0x3FC))) {
                return "superblock checksum mismatch";
            }
            if ((incompat & ~INCOMPAT_SUPPORTED) != 0) {
                return "unsupported features (incompat 0x" + Integer.toHexString(incompat & ~INCOMPAT_SUPPORTED) + ")";
            }
            if ((sb.getShort(0x3A) & STATE_ERRORS) != 0) {
                return "errors recorded in the superblock";
            }
            int logBlockSize = sb.getInt(0x18);
            if (logBlockSize < 0 || logBlockSize > 6) {
                return "bad block size";
            }
            long blockSize = 1024L << logBlockSize;
            boolean is64 = (incompat & INCOMPAT_64BIT) != 0;
            long blocks = u32(sb.getInt(0x04)) | (is64 ? u32(sb.getInt(0x150)) << 32 : 0);
            long firstData = u32(sb.getInt(0x14));
            long blocksPerGroup = u32(sb.getInt(0x20));
            long inodesPerGroup = u32(sb.getInt(0x28));
            int inodeSize = sb.getInt(0x4C) == 0 ? 128 : sb.getShort(0x58) & 0xFFFF;
            if (blocksPerGroup == 0 || blocksPerGroup > 8 * blockSize || inodesPerGroup == 0
                    || inodesPerGroup > 8 * blockSize || firstData >= blocks || inodeSize < 128
                    || inodeSize > blockSize || Integer.bitCount(inodeSize) != 1) {
                return "bad geometry";
            }
            if (blocks > fileSize / blockSize) {
                return "block count exceeds the size of the file";
            }
            long groups = (blocks - firstData + blocksPerGroup - 1) / blocksPerGroup;
            if (groups * inodesPerGroup != u32(sb.getInt(0x00))) {
                return "bad geometry: inode count";
            }
            if ((incompat & INCOMPAT_META_BG) != 0) {
                return null; // descriptors spread over the groups; not made by hupd's mkfs, not checked further
            }
            int descSize = is64 ? sb.getShort(0xFE) & 0xFFFF : 32;
            if (descSize < 32 || descSize > 1024 || Integer.bitCount(descSize) != 1 || (is64 && descSize < 64)) {
                return "bad group descriptor size";
            }
            long tableBlocks = (inodesPerGroup * inodeSize + blockSize - 1) / blockSize;
            if (groups * descSize > Integer.MAX_VALUE) {
                return "bad geometry";
            }
            ByteBuffer gdt = read(ch, (firstData + 1) * blockSize, (int) (groups * descSize));
            if (gdt == null) {
                return "group descriptors beyond the end of the file";
            }
            byte[] uuid = java.util.Arrays.copyOfRange(sb.array(), 0x68, 0x78);
            int seed = (incompat & INCOMPAT_CSUM_SEED) != 0 ? sb.getInt(0x270) : crc32c(~0, uuid, 0, 16);
            for (int g = 0; g < groups; g++) {
                int d = g * descSize;
                long[] where = {
                    u32(gdt.getInt(d)) | (descSize >= 64 ? u32(gdt.getInt(d + 0x20)) << 32 : 0),
                    u32(gdt.getInt(d + 4)) | (descSize >= 64 ? u32(gdt.getInt(d + 0x24)) << 32 : 0),
                    u32(gdt.getInt(d + 8)) | (descSize >= 64 ? u32(gdt.getInt(d + 0x28)) << 32 : 0)};
                if (where[0] < firstData || where[0] >= blocks || where[1] < firstData || where[1] >= blocks
                        || where[2] < firstData || where[2] + tableBlocks > blocks) {
                    return "group " + g + ": bitmaps or inode table outside the filesystem";
                }
                int stored = gdt.getShort(d + 0x1E) & 0xFFFF;
                byte[] le = {(byte) g, (byte) (g >>> 8), (byte) (g >>> 16), (byte) (g >>> 24)};
                byte[] raw = gdt.array();
                if (metadataCsum) {
                    int c = crc32c(seed, le, 0, 4);
                    c = crc32c(c, raw, d, 0x1E);
                    c = crc32c(c, new byte[2], 0, 2);
                    c = crc32c(c, raw, d + 0x20, descSize - 0x20);
                    if ((c & 0xFFFF) != stored) {
                        return "group " + g + ": descriptor checksum mismatch";
                    }
                } else if ((roCompat & RO_COMPAT_GDT_CSUM) != 0) {
                    int c = crc16(0xFFFF, uuid, 0, 16);
                    c = crc16(c, le, 0, 4);
                    c = crc16(c, raw, d, 0x1E);
                    if (descSize > 0x20) {
                        c = crc16(c, raw, d + 0x20, descSize - 0x20);
                    }
                    if (c != stored) {
                        return "group " + g + ": descriptor checksum mismatch";
                    }
                }
            }
            return null;
        }
    }

    /** {@code length} bytes at {@code position}, little-endian; null when the file ends before. */
    private static ByteBuffer read(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, position + b.position()) < 0) {
                return null;
            }
        }
        return b.clear();
    }

    private static long u32(int v) {
        return v & 0xFFFFFFFFL;
    }

    private static final int[] CRC32C = table(0x82F63B78);
    private static final int[] CRC16 = table(0xA001);

    private static int[] table(int poly) {
        int[] t = new int[256];
        for (int i = 0; i < 256; i++) {
            int c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? (c >>> 1) ^ poly : c >>> 1;
            }
            t[i] = c;
        }
        return t;
    }

    /** CRC-32C without the final inversion, as the kernel's ext4_chksum chains it. */
    static int crc32c(int crc, byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            crc = CRC32C[(crc ^ b[i]) & 0xFF] ^ (crc >>> 8);
        }
        return crc;
    }

    /** The kernel's crc16 (CRC-16/ARC, reflected 0xA001), for descriptors of filesystems without metadata_csum. */
    static int crc16(int crc, byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            crc = (CRC16[(crc ^ b[i]) & 0xFF] ^ (crc >>> 8)) & 0xFFFF;
        }
        return crc;
    }}
