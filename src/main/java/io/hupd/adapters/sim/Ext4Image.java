package io.hupd.adapters.sim;

import static io.hupd.adapters.sim.E2fsTools.TOOL_ENV;
import static io.hupd.adapters.sim.E2fsTools.mkfsError;
import static io.hupd.adapters.sim.E2fsTools.tool;
import static io.hupd.adapters.sim.E2fsTools.toolError;

import io.hupd.fs.Commands;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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

    /** Zeroed before a partition is made: the primary superblock and group descriptors lie well inside it. */
    private static final int BLOCK_DEVICE_WIPE = (int) MIB;

    private final Path file;
    private final boolean blockDevice;
    /** Reads the slot's files; this class makes the filesystem and checks it as a whole. */
    private final DebugfsReader reader;

    public Ext4Image(Path imageFile) {
        this(imageFile, false);
    }

    private Ext4Image(Path imageFile, boolean blockDevice) {
        this.file = imageFile.toAbsolutePath().normalize();
        this.blockDevice = blockDevice;
        this.reader = new DebugfsReader(this);
    }

    /** The filesystem on a partition's device node ({@code /dev/mmcblk0p3}); its size is the partition's. */
    public static Ext4Image onBlockDevice(Path node) {
        return new Ext4Image(node, true);
    }

    boolean present() {
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

    /**
     * Null when a kernel would mount this filesystem; otherwise why not. Reads the superblock and the group
     * descriptors only: a few KiB, where {@link #isCleanExt4} reads every inode table.
     */
    public String whyNotMountable() throws IOException {
        return Ext4MountCheck.whyNotMountable(file);
    }

    /** A regular file's content; empty for a missing path or anything that is not a regular file. */
    public Optional<byte[]> readFile(String path, long maxBytes) throws IOException {
        return reader.readFile(path, maxBytes);
    }

    public enum Type { FILE, DIRECTORY, SYMLINK, OTHER }

    public record Entry(Type type, long size, String symlinkTarget /* null unless SYMLINK */) {}

    /** What the path itself is (a final symlink is not followed); empty when it does not resolve. */
    public Optional<Entry> stat(String path) throws IOException {
        return reader.stat(path);
    }

    /** The names in a folder of the image ("." and ".." left out), sorted; empty when the path is not a folder. */
    public Optional<List<String>> list(String folder) throws IOException {
        return reader.list(folder);
    }

    public String label() throws IOException {
        Commands.Result r = Commands.run(List.of(tool("e2label"), relativeName()), Duration.ofSeconds(30),
                file.getParent(), TOOL_ENV, null);
        if (!r.ok()) {
            throw new IOException("cannot read the label of " + name() + ": " + toolError(r, "e2label"));
        }
        return r.out().strip();
    }

    /**
     * Copies a folder of the image, recursively, into {@code destination} (which must exist and be empty): the
     * folder's contents land directly in it. Returns false when the path is not a folder in the image.
     */
    public boolean copyOut(String folder, Path destination) throws IOException {
        return reader.copyOut(folder, destination);
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

    /*
     * The tools read "name?options" as io options and "-x" as a flag, so they are run from the image's folder on
     * "./name": only the file name itself must be plain.
     */
    String relativeName() {
        String n = name();
        if (n.indexOf('?') >= 0) {
            throw new IllegalArgumentException("image file name must not contain '?': " + n);
        }
        return "./" + n;
    }

    String name() {
        return file.getFileName().toString();
    }

    private static Duration mkfsTimeout(long sizeBytes) {
        // Generous for SD cards (about 2 MiB/s worst case); the time limit is there to catch a hang, not to pace.
        return Duration.ofSeconds(60 + sizeBytes / (2 * MIB));
    }

    private static Duration fsckTimeout() {
        return Duration.ofSeconds(120);
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
