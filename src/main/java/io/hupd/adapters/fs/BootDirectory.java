package io.hupd.adapters.fs;

import io.hupd.fs.AtomicFiles;
import io.hupd.fs.Trees;
import io.hupd.ports.BootFilePolicy;
import io.hupd.ports.BootPartition;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * The boot partition's files as a folder. Every write goes through {@link RollForwardFiles} (an atomic replace
 * with a checksummed sibling left until it is complete), and every operation first finishes or discards what an
 * interrupted write left behind; the bootloader settings are left to the {@link io.hupd.ports.Bootloader}. A
 * backup is a copy of every file plus a manifest written last, so a backup without its manifest is incomplete
 * and is made again.
 */
public final class BootDirectory implements BootPartition {
    private static final String MANIFEST = "MANIFEST";

    private final Path dir;
    private final LongSupplier capacity;

    /** @param capacity the partition's size in bytes (the simulated device's boot size) */
    public BootDirectory(Path dir, LongSupplier capacity) {
        this.dir = dir;
        this.capacity = capacity;
    }

    /**
     * Finishes what a crash interrupted before the files are looked at, so that no answer (free space, backup,
     * restore) is computed from a half-written file.
     */
    public RollForwardFiles.Recovery recover() throws IOException {
        return RollForwardFiles.recover(dir);
    }

    @Override
    public long freeBytes() throws IOException {
        recover();
        long used = 0;
        for (String f : files(dir)) {
            // FAT allocates whole clusters; 4 KiB is the common cluster size of a balena boot partition
            used += roundUp(Files.size(dir.resolve(f)));
        }
        return capacity.getAsLong() - used;
    }

    @Override
    public long bytesNeeded(Path newBootFiles, BootFilePolicy policy) throws IOException {
        java.util.Map<String, Long> sizes = new java.util.HashMap<>();
        for (String f : files(newBootFiles)) {
            sizes.put(f, Files.size(newBootFiles.resolve(f)));
        }
        return bytesNeeded(sizes, policy);
    }

    @Override
    public long bytesNeeded(java.util.Map<String, Long> newFileSizes, BootFilePolicy policy) throws IOException {
        recover();
        long needed = 0;
        for (java.util.Map.Entry<String, Long> e : newFileSizes.entrySet()) {
            String f = e.getKey();
            if (RollForwardFiles.isWorkFile(f.substring(f.lastIndexOf('/') + 1)) || !willInstall(f, policy)) {
                continue;
            }
            Path current = dir.resolve(f);
            long old = Files.isRegularFile(current, LinkOption.NOFOLLOW_LINKS) ? roundUp(Files.size(current)) : 0;
            needed += roundUp(e.getValue()) - old;
        }
        return needed;
    }

    @Override
    public void backup(Path backupDir, BootFilePolicy policy) throws IOException {
        recover();
        Trees.deleteRecursively(backupDir);
        Path tmp = backupDir.resolveSibling(backupDir.getFileName() + ".partial");
        Trees.deleteRecursively(tmp);
        Files.createDirectories(tmp);
        StringBuilder manifest = new StringBuilder();
        for (String f : files(dir)) {
            if (policy.bootloaderOwned().contains(f)) {
                continue;
            }
            // copied, not read whole: a boot file can be as large as the partition
            Path copy = tmp.resolve("files").resolve(f);
            Files.createDirectories(copy.getParent());
            Files.copy(dir.resolve(f), copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(copy,
                    java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            manifest.append("f ").append(f).append('\n');
        }
        for (String d : dirs(dir)) {
            manifest.append("d ").append(d).append('\n');
        }
        AtomicFiles.writeString(tmp.resolve(MANIFEST), manifest.toString());
        Files.move(tmp, backupDir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.forceDirectory(backupDir.getParent());
    }

    @Override
    public boolean hasCompleteBackup(Path backupDir) {
        return Files.isRegularFile(backupDir.resolve(MANIFEST));
    }

    @Override
    public void install(Path newBootFiles, BootFilePolicy policy) throws IOException {
        recover();
        for (String f : files(newBootFiles)) {
            if (willInstall(f, policy)) {
                RollForwardFiles.write(dir.resolve(f), Files.readAllBytes(newBootFiles.resolve(f)));
            }
        }
    }

    @Override
    public void restore(Path backupDir, BootFilePolicy policy) throws IOException {
        recover();
        TreeSet<String> keepFiles = new TreeSet<>();
        TreeSet<String> keepDirs = new TreeSet<>();
        for (String line : io.hupd.fs.BoundedFiles.readString(backupDir.resolve(MANIFEST), io.hupd.fs.BoundedFiles.DOCUMENT).split("\n")) {
            if (line.startsWith("f ")) {
                keepFiles.add(line.substring(2));
            } else if (line.startsWith("d ")) {
                keepDirs.add(line.substring(2));
            }
        }
        for (String f : files(dir)) {
            if (!keepFiles.contains(f) && !policy.bootloaderOwned().contains(f)) {
                AtomicFiles.delete(dir.resolve(f));
            }
        }
        for (String f : keepFiles) {
            byte[] want = Files.readAllBytes(backupDir.resolve("files").resolve(f));
            Path cur = dir.resolve(f);
            if (!Files.isRegularFile(cur, LinkOption.NOFOLLOW_LINKS)
                    || !java.util.Arrays.equals(want, Files.readAllBytes(cur))) {
                RollForwardFiles.write(cur, want);
            }
        }
        // Folders the update created go too (deepest first), unless something the bootloader owns lives there.
        List<String> extra = new ArrayList<>(dirs(dir));
        extra.removeAll(keepDirs);
        extra.sort((a, b) -> b.length() - a.length());
        for (String d : extra) {
            Path p = dir.resolve(d);
            try (Stream<Path> s = Files.list(p)) {
                if (s.findAny().isEmpty()) {
                    AtomicFiles.delete(p);
                }
            }
        }
    }

    /** Kept-back files are never replaced; the copy-if-missing ones are written only where there is none. */
    private boolean willInstall(String f, BootFilePolicy policy) {
        if (policy.copyIfMissing().contains(f)) {
            return !Files.exists(dir.resolve(f), LinkOption.NOFOLLOW_LINKS);
        }
        return !policy.neverOverwritten(f);
    }

    /** Regular files below a folder, as sorted relative paths; hupd's own work files are not boot files. */
    static List<String> files(Path root) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (Stream<Path> s = Files.walk(root)) {
            s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                    .map(p -> root.relativize(p).toString())
                    .filter(f -> !RollForwardFiles.isWorkFile(f.substring(f.lastIndexOf('/') + 1)))
                    .sorted()
                    .forEach(out::add);
        }
        return out;
    }

    private static List<String> dirs(Path root) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.filter(p -> !p.equals(root) && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                    .map(p -> root.relativize(p).toString())
                    .sorted()
                    .forEach(out::add);
        }
        return out;
    }

    private static long roundUp(long n) {
        return (n + 4095) / 4096 * 4096;
    }
}
