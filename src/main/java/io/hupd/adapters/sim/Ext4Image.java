package io.hupd.adapters.sim;

import io.hupd.fs.Commands;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A root slot as e2fsprogs make and read it, with nothing mounted: an ext4 filesystem in a plain file (the
 * simulated device's slot) or on a block device (a real device's root partition, see
 * {@link #onBlockDevice}). The two differ only in how a slot is cleared before it is made: a file is cut to
 * the slot's size, a partition keeps its size and has its first MiB zeroed.
 */
public final class Ext4Image {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    /** From this size on the slot is treated like a real root partition: 4 KiB blocks, denser inodes. */
    private static final long REAL_ROOT_SIZE = 64 * MIB;
    private static final int MAX_LABEL_BYTES = 16;

    /*
     * e2fsprogs messages are translated through gettext; the parsing below only works on the C locale. The pager
     * variables keep debugfs from ever handing its output to a pager.
     */
    private static final Map<String, String> TOOL_ENV = Map.of(
            "LC_ALL", "C", "LANG", "C", "LANGUAGE", "C", "PAGER", "__none__", "DEBUGFS_PAGER", "__none__");

    private static final Pattern STAT_TYPE = Pattern.compile("^Inode:\\s*\\d+\\s+Type:\\s*(\\S+)", Pattern.MULTILINE);
    private static final Pattern STAT_SIZE = Pattern.compile("\\bSize:\\s*(\\d+)");
    private static final String FAST_LINK = "Fast link dest: \"";

    private static final Map<String, String> TOOL_PATHS = new ConcurrentHashMap<>();

    /** Zeroed before a partition is made: the primary superblock and group descriptors lie well inside it. */
    private static final int BLOCK_DEVICE_WIPE = (int) MIB;

    private final Path file;
    private final boolean blockDevice;

    public Ext4Image(Path imageFile) {
        this(imageFile, false);
    }

    private Ext4Image(Path imageFile, boolean blockDevice) {
        this.file = imageFile.toAbsolutePath().normalize();
        this.blockDevice = blockDevice;
    }

    /** The filesystem on a partition's device node ({@code /dev/mmcblk0p3}); its size is the partition's. */
    public static Ext4Image onBlockDevice(Path node) {
        return new Ext4Image(node, true);
    }

    private boolean present() {
        return blockDevice ? Files.exists(file) && !Files.isDirectory(file) : Files.isRegularFile(file);
    }

    public Path file() {
        return file;
    }

    /**
     * Makes a fresh ext4 of exactly {@code sizeBytes} in the slot file, populated from {@code sourceTree}. On any
     * failure the slot file is left zeroed, so a half-populated filesystem can never pass for a bootable root.
     */
    public void format(Path sourceTree, String label, long sizeBytes) throws IOException {
        if (!Files.isDirectory(sourceTree)) {
            throw new IOException("cannot format " + name() + ": source tree " + sourceTree + " is not a directory");
        }
        mkfs(sourceTree.toAbsolutePath().normalize(), label, sizeBytes);
    }

    public void formatEmpty(String label, long sizeBytes) throws IOException {
        mkfs(null, label, sizeBytes);
    }

    /**
     * As {@link #format}, populated straight from a tar archive (plain or gzip) by mke2fs itself: no staging
     * folder. Only when {@link #takesArchives()}; the caller has already checked every entry of the archive.
     */
    public void formatFromArchive(Path archive, String label, long sizeBytes) throws IOException {
        if (!Files.isRegularFile(archive, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("cannot format " + name() + ": archive " + archive + " is not a regular file");
        }
        if (!takesArchives()) {
            throw new IOException("cannot format " + name() + " from an archive: this mke2fs takes only folders");
        }
        mkfs(archive.toAbsolutePath().normalize(), label, sizeBytes);
    }

    private static volatile Boolean archiveProbe;

    /**
     * Whether this machine's mke2fs fills a filesystem from a tar archive given to {@code -d} (e2fsprogs 1.47.1
     * and later, with libarchive loadable at run time). Asked once per process by making a tiny filesystem
     * from an empty archive: an older mke2fs takes the archive for a folder and fails, and one without
     * libarchive says so and fails, so the exit code alone answers both.
     */
    public static boolean takesArchives() {
        Boolean known = archiveProbe;
        if (known == null) {
            synchronized (Ext4Image.class) {
                if (archiveProbe == null) {
                    archiveProbe = probeArchiveSupport();
                }
                known = archiveProbe;
            }
        }
        return known;
    }

    private static boolean probeArchiveSupport() {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("hupd-mke2fs-probe");
            // Two zero blocks: the end-of-archive marker, i.e. an empty tar archive.
            Files.write(dir.resolve("empty.tar"), new byte[1024]);
            Commands.Result r = Commands.run(List.of(tool("mkfs.ext4"), "-q", "-F", "-O", "^has_journal", "-d",
                    "./empty.tar", "./probe.img", "256k"), Duration.ofSeconds(30), dir, TOOL_ENV, null);
            return r.ok();
        } catch (IOException e) {
            return false;
        } finally {
            if (dir != null) {
                try {
                    io.hupd.fs.Trees.deleteRecursively(dir);
                } catch (IOException ignored) {
                    // a leftover scratch folder in the temp dir is harmless
                }
            }
        }
    }

    /** @param source a folder or (when {@link #takesArchives()}) a tar archive; null for an empty filesystem */
    private void mkfs(Path source, String label, long sizeBytes) throws IOException {
        checkLabel(label);
        if (sizeBytes <= 0 || sizeBytes % KIB != 0) {
            throw new IllegalArgumentException("slot size must be a positive multiple of 1024 bytes: " + sizeBytes);
        }
        Path parent = file.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new IOException("cannot format " + name() + ": folder " + parent + " does not exist");
        }
        // mke2fs never shrinks an existing file; cutting it first makes the slot file exactly the partition size.
        wipe(sizeBytes);
        List<String> cmd = new ArrayList<>(List.of(tool("mkfs.ext4"), "-q", "-F", "-L", label));
        if (sizeBytes >= REAL_ROOT_SIZE) {
            // mke2fs.conf would pick 1 KiB blocks below 512 MiB; a root filesystem full of small files wants
            // 4 KiB blocks (as on the device) and more inodes than the default 1 per 16 KiB.
            cmd.addAll(List.of("-b", "4096", "-i", "8192"));
        }
        // Zeroing inode tables and journal now (a few ms, some MiB of allocation) means the new OS's first boot
        // does no background initialisation while its health is being judged.
        cmd.addAll(List.of("-E", "lazy_itable_init=0,lazy_journal_init=0"));
        if (source != null) {
            cmd.addAll(List.of("-d", source.toString()));
        }
        cmd.add(relativeName());
        cmd.add((sizeBytes / KIB) + "k");

        Commands.Result r;
        try {
            r = Commands.run(cmd, mkfsTimeout(sizeBytes), parent, TOOL_ENV, null);
        } catch (IOException e) {
            wipeQuietly(sizeBytes);
            throw new IOException("cannot format " + name() + ": " + oneLine(e.getMessage()), e);
        }
        if (!r.ok()) {
            wipeQuietly(sizeBytes);
            String err = r.stderr();
            if (err.contains("Could not allocate block") || err.contains("No space left on device")) {
                throw new IOException("root filesystem does not fit in " + name() + " (" + human(sizeBytes) + ")");
            }
            if (err.contains("Could not allocate inode")) {
                throw new IOException("root filesystem does not fit in " + name() + " (" + human(sizeBytes)
                        + "): too many files for its inodes");
            }
            throw new IOException("cannot format " + name() + " (" + human(sizeBytes) + "): " + mkfsError(r));
        }
    }

    /** True only when e2fsck, forced and read-only, finds nothing to fix. */
    public boolean isCleanExt4() throws IOException {
        if (!present()) {
            return false;
        }
        Commands.Result r = Commands.run(List.of(tool("e2fsck"), "-fn", relativeName()),
                fsckTimeout(), file.getParent(), TOOL_ENV, null);
        return r.exitCode() == 0;
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

    /**
     * Null when a kernel would mount this filesystem; otherwise why not. Reads the superblock and the group
     * descriptors only: a few KiB, where {@link #isCleanExt4} reads every inode table.
     */
    public String whyNotMountable() throws IOException {
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
    }

    /** A regular file's content; empty for a missing path or anything that is not a regular file. */
    public Optional<byte[]> readFile(String path, long maxBytes) throws IOException {
        String p = imagePath(path);
        Optional<Entry> e = stat(p);
        if (e.isEmpty() || e.get().type() != Type.FILE) {
            return Optional.empty();
        }
        long size = e.get().size();
        if (size > maxBytes) {
            throw new IOException(p + " in " + name() + " is " + size + " bytes, more than the " + maxBytes
                    + " allowed");
        }
        if (size == 0) {
            return Optional.of(new byte[0]);
        }
        Commands.Result r = debugfs("cat " + quote(p), readTimeout(size));
        byte[] out = r.stdout();
        if (out.length != size) {
            throw new IOException("cannot read " + p + " from " + name() + ": got " + out.length + " of " + size
                    + " bytes" + errorSuffix(r));
        }
        return Optional.of(out);
    }

    public enum Type { FILE, DIRECTORY, SYMLINK, OTHER }

    public record Entry(Type type, long size, String symlinkTarget /* null unless SYMLINK */) {}

    /** What the path itself is (a final symlink is not followed); empty when it does not resolve. */
    public Optional<Entry> stat(String path) throws IOException {
        String p = imagePath(path);
        Commands.Result r = debugfs("stat " + quote(p), Duration.ofSeconds(30));
        // Latin-1 keeps one char per byte, so sizes from the inode can index the text exactly.
        String out = new String(r.stdout(), StandardCharsets.ISO_8859_1);
        Matcher tm = STAT_TYPE.matcher(out);
        if (!tm.find()) {
            if (isMissing(r.stderr())) {
                return Optional.empty();
            }
            throw new IOException("cannot read " + p + " from " + name() + ": " + debugfsError(r));
        }
        Matcher sm = STAT_SIZE.matcher(out);
        if (!sm.find(tm.end())) {
            throw new IOException("cannot read " + p + " from " + name() + ": debugfs printed no size");
        }
        long size = Long.parseLong(sm.group(1));
        Type type = switch (tm.group(1)) {
            case "regular" -> Type.FILE;
            case "directory" -> Type.DIRECTORY;
            case "symlink" -> Type.SYMLINK;
            default -> Type.OTHER;
        };
        if (type != Type.SYMLINK) {
            return Optional.of(new Entry(type, size, null));
        }
        return Optional.of(new Entry(type, size, linkTarget(p, out, size)));
    }

    /**
     * The names in a folder of the image ("." and ".." left out), sorted; empty when the path is not a folder.
     * Read with {@code debugfs ls -p}, whose lines are {@code /inode/mode/uid/gid/name/size/}: a name cannot hold
     * '/', so the fields split cleanly.
     */
    public Optional<List<String>> list(String folder) throws IOException {
        String p = imagePath(folder);
        Optional<Entry> e = stat(p);
        if (e.isEmpty() || e.get().type() != Type.DIRECTORY) {
            return Optional.empty();
        }
        Commands.Result r = debugfs("ls -p " + quote(p), Duration.ofSeconds(30));
        List<String> names = new java.util.ArrayList<>();
        for (String line : r.out().split("\n")) {
            String[] f = line.split("/", -1);
            if (f.length != 8 || !f[0].isEmpty() || f[5].equals(".") || f[5].equals("..") || f[5].isEmpty()) {
                continue;
            }
            names.add(f[5]);
        }
        names.sort(null);
        return Optional.of(List.copyOf(names));
    }

    public String label() throws IOException {
        Commands.Result r = Commands.run(List.of(tool("e2label"), relativeName()), Duration.ofSeconds(30),
                file.getParent(), TOOL_ENV, null);
        if (!r.ok()) {
            throw new IOException("cannot read the label of " + name() + ": " + toolError(r, "e2label"));
        }
        return r.out().strip();
    }

    /*
     * Short targets live in the inode and only stat shows them; longer ones sit in a data block, which cat prints
     * as it would a file's content.
     */
    private String linkTarget(String p, String statOut, long size) throws IOException {
        int at = statOut.indexOf(FAST_LINK);
        byte[] target;
        if (at >= 0) {
            int from = at + FAST_LINK.length();
            if (from + size > statOut.length()) {
                throw new IOException("cannot read the link " + p + " in " + name() + ": truncated stat output");
            }
            target = statOut.substring(from, (int) (from + size)).getBytes(StandardCharsets.ISO_8859_1);
        } else {
            if (size > 4096) {
                throw new IOException("the link " + p + " in " + name() + " is " + size + " bytes long");
            }
            Commands.Result r = debugfs("cat " + quote(p), Duration.ofSeconds(30));
            if (r.stdout().length != size) {
                throw new IOException("cannot read the link " + p + " in " + name() + errorSuffix(r));
            }
            target = r.stdout();
        }
        return new String(target, StandardCharsets.UTF_8);
    }

    /**
     * Copies a folder of the image, recursively, into {@code destination} (which must exist and be empty): the
     * folder's contents land directly in it. Returns false when the path is not a folder in the image.
     */
    public boolean copyOut(String folder, Path destination) throws IOException {
        Optional<Entry> e = stat(folder);
        if (e.isEmpty() || e.get().type() != Type.DIRECTORY) {
            return false;
        }
        Path scratch = Files.createTempDirectory(destination.toAbsolutePath().getParent(), ".rdump");
        try {
            if (scratch.toString().contains("\"") || scratch.toString().contains("\n")) {
                throw new IOException("cannot copy out of " + name() + " into " + scratch);
            }
            Commands.Result r = debugfs("rdump " + quote(folder) + " \"" + scratch.toAbsolutePath() + "\"",
                    Duration.ofSeconds(300));
            String err = firstRealLine(r.stderr(), "debugfs");
            Path dumped;
            try (var list = Files.list(scratch)) {
                dumped = list.findFirst().orElse(null);
            }
            if (!r.ok() || dumped == null) {
                throw new IOException("cannot copy " + folder + " out of " + name() + ": "
                        + (err == null ? "debugfs wrote nothing" : err));
            }
            try (var list = Files.list(dumped)) {
                for (Path child : (Iterable<Path>) list::iterator) {
                    Files.move(child, destination.resolve(child.getFileName().toString()));
                }
            }
            return true;
        } finally {
            io.hupd.fs.Trees.deleteRecursively(scratch);
        }
    }

    private Commands.Result debugfs(String request, Duration timeout) throws IOException {
        if (!present()) {
            throw new IOException(name() + " does not exist");
        }
        return Commands.run(List.of(tool("debugfs"), "-R", request, relativeName()), timeout, file.getParent(),
                TOOL_ENV, null);
    }

    private static boolean isMissing(String stderr) {
        return stderr.contains("File not found by ext2_lookup")
                || stderr.contains("Ext2 inode is not a directory")
                || stderr.contains("Too many symbolic links");
    }

    /** debugfs exits 0 even when it could not open the image, so errors are only visible on stderr. */
    private static String debugfsError(Commands.Result r) {
        return toolError(r, "debugfs");
    }

    private static String errorSuffix(Commands.Result r) {
        String e = firstRealLine(r.stderr(), "debugfs");
        return e == null ? "" : ": " + e;
    }

    private static String toolError(Commands.Result r, String tool) {
        String e = firstRealLine(r.stderr(), tool);
        return e != null ? e : "exit code " + r.exitCode();
    }

    /** The first stderr line that is not the tool's version banner, with the tool's own prefix taken off. */
    private static String firstRealLine(String stderr, String tool) {
        for (String line : stderr.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.matches("\\S+ \\d+\\.\\d+(\\.\\d+)* \\(.*\\)")) {
                continue;
            }
            if (l.startsWith(tool + ": ")) {
                l = l.substring(tool.length() + 2);
            }
            return l;
        }
        return null;
    }

    /** mkfs prints its own summary last ("mkfs.ext4: ... while populating"); the lines before are details. */
    private static String mkfsError(Commands.Result r) {
        String last = null;
        for (String line : r.stderr().split("\n")) {
            if (line.startsWith("mkfs.ext4: ")) {
                last = line.substring("mkfs.ext4: ".length()).strip();
            }
        }
        return last != null ? last : toolError(r, "mkfs.ext4");
    }

    private void wipe(long sizeBytes) throws IOException {
        if (blockDevice) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(BLOCK_DEVICE_WIPE, sizeBytes));
                while (zeros.hasRemaining()) {
                    ch.write(zeros, zeros.position());
                }
                ch.force(true);
            } catch (IOException e) {
                throw new IOException("cannot format " + name() + ": " + oneLine(e.getMessage()), e);
            }
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.truncate(0);
            // Sparse: a zeroed slot costs no disk space, and it is not an ext4 filesystem.
            if (sizeBytes > 0) {
                ch.position(sizeBytes - 1);
                ch.write(java.nio.ByteBuffer.wrap(new byte[1]));
            }
        } catch (IOException e) {
            throw new IOException("cannot format " + name() + ": " + oneLine(e.getMessage()), e);
        }
    }

    private void wipeQuietly(long sizeBytes) {
        try {
            wipe(sizeBytes);
        } catch (IOException ignored) {
            // the format already failed; that error is the one to report
        }
    }

    private static void checkLabel(String label) {
        if (label == null || label.getBytes(StandardCharsets.UTF_8).length > MAX_LABEL_BYTES
                || label.chars().anyMatch(c -> c < 0x20)) {
            throw new IllegalArgumentException("ext4 label must be at most 16 bytes without control characters: "
                    + label);
        }
    }

    /**
     * debugfs splits its request line itself; double quotes keep spaces in one argument and there is no other
     * escape. A quote or line break could end the argument or the request, so those are refused.
     */
    static String imagePath(String path) {
        if (path == null || path.indexOf('"') >= 0 || path.indexOf('\n') >= 0 || path.indexOf('\r') >= 0
                || path.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("path not allowed in an image: " + path);
        }
        // Always absolute: debugfs would read "<12>" as an inode number and a bare name relative to its cwd.
        // Its lookup also fails on an empty component, where the kernel reads "a//b" as "a/b".
        return ("/" + path).replaceAll("/{2,}", "/");
    }

    private static String quote(String imagePath) {
        return "\"" + imagePath + "\"";
    }

    /*
     * The tools read "name?options" as io options and "-x" as a flag, so they are run from the image's folder on
     * "./name": only the file name itself must be plain.
     */
    private String relativeName() {
        String n = name();
        if (n.indexOf('?') >= 0) {
            throw new IllegalArgumentException("image file name must not contain '?': " + n);
        }
        return "./" + n;
    }

    private String name() {
        return file.getFileName().toString();
    }

    /** e2fsprogs live in /usr/sbin, which is not on every user's PATH. */
    private static String tool(String name) {
        return TOOL_PATHS.computeIfAbsent(name, n -> {
            List<String> dirs = new ArrayList<>();
            String path = System.getenv("PATH");
            if (path != null) {
                dirs.addAll(List.of(path.split(java.io.File.pathSeparator)));
            }
            dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
            for (String d : dirs) {
                if (d.isEmpty()) {
                    continue;
                }
                Path candidate = Path.of(d, n);
                if (Files.isExecutable(candidate)) {
                    return candidate.toString();
                }
            }
            return n;
        });
    }

    private static Duration mkfsTimeout(long sizeBytes) {
        // Generous for SD cards (about 2 MiB/s worst case); the time limit is there to catch a hang, not to pace.
        return Duration.ofSeconds(60 + sizeBytes / (2 * MIB));
    }

    private static Duration fsckTimeout() {
        return Duration.ofSeconds(120);
    }

    private static Duration readTimeout(long bytes) {
        return Duration.ofSeconds(30 + bytes / MIB);
    }

    static String human(long bytes) {
        if (bytes % MIB == 0) {
            return bytes / MIB + " MiB";
        }
        if (bytes % KIB == 0) {
            return bytes / KIB + " KiB";
        }
        return bytes + " bytes";
    }

    private static String oneLine(String s) {
        if (s == null) {
            return "unknown error";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }
}
