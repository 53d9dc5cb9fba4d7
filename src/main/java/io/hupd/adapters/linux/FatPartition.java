package io.hupd.adapters.linux;

import io.hupd.adapters.fs.RollForwardFiles;
import io.hupd.fs.Commands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A FAT boot partition that is not mounted, reached with mtools on its node (the kernel may have no VFAT driver,
 * and writing next to a mounted vfat would corrupt it: hupd uses one or the other, never both). Writes follow
 * {@link RollForwardFiles}' protocol (a checksummed hidden sibling first, then the file, then the sibling goes),
 * so {@link #recover} can finish or drop a write a power cut interrupted; every write is read back.
 */
final class FatPartition {
    private static final Map<String, String> ENV = Map.of("MTOOLS_SKIP_CHECK", "1", "LC_ALL", "C",
            "MTOOLS_NO_VFAT", "0");
    private static final Pattern FREE = Pattern.compile("([0-9][0-9 ]*) bytes free");
    private static final Pattern SIBLING = Pattern.compile("\\.(.+)\\.([0-9a-f]{16})\\.hupdrw");

    private final Path node;

    FatPartition(Path node) {
        this.node = node;
    }

    Path node() {
        return node;
    }

    /** Every file, as a path relative to the partition's root with '/' separators. */
    List<String> files() throws IOException {
        Commands.Result r = mtool("mdir", "-/", "-b", "::");
        if (!r.ok()) {
            throw new IOException("cannot list the boot partition " + node + " (mdir): " + complaint(r));
        }
        List<String> out = new ArrayList<>();
        for (String line : r.out().split("\n")) {
            String l = line.strip();
            if (l.startsWith("::/") && !l.endsWith("/")) {
                out.add(l.substring(3));
            }
        }
        out.sort(null);
        return out;
    }

    Optional<byte[]> read(String path) throws IOException {
        Commands.Result r = mtool("mcopy", "-n", "::/" + path, "-");
        if (!r.ok()) {
            if (r.stderr().contains("not found")) {
                return Optional.empty();
            }
            throw new IOException("cannot read " + path + " on the boot partition " + node + ": "
                    + complaint(r));
        }
        return Optional.of(r.stdout());
    }

    /** Writes one file by the roll-forward protocol and reads it back; throws when what is there differs. */
    void write(String path, byte[] content) throws IOException {
        Path sibling = RollForwardFiles.siblingOf(Path.of(path), content);
        String siblingPath = sibling.toString();
        makeParents(path);
        put(siblingPath, content);
        put(path, content);
        Optional<byte[]> back = read(path);
        if (back.isEmpty() || !Arrays.equals(back.get(), content)) {
            throw new IOException("the boot partition " + node + " does not read back " + path + " as written"
                    + " (mcopy exited 0)");
        }
        delete(siblingPath);
    }

    void delete(String path) throws IOException {
        Commands.Result r = mtool("mdel", "::/" + path);
        if (!r.ok() && !r.stderr().contains("not found")) {
            throw new IOException("cannot delete " + path + " on the boot partition " + node + ": "
                    + complaint(r));
        }
    }

    long freeBytes() throws IOException {
        Commands.Result r = mtool("mdir", "::");
        Matcher m = FREE.matcher(r.out());
        if (!r.ok() || !m.find()) {
            throw new IOException("cannot read the free space of the boot partition " + node + ": "
                    + (r.ok() ? "no 'bytes free' line from mdir" : complaint(r)));
        }
        return Long.parseLong(m.group(1).replace(" ", ""));
    }

    /** Copies every file of the partition into an empty local folder. */
    void copyAllTo(Path dir) throws IOException {
        for (String f : files()) {
            if (RollForwardFiles.isWorkFile(Path.of(f).getFileName().toString())) {
                continue;
            }
            copyTo(f, dir);
        }
    }

    /** Copies the named files that exist into a local folder (same relative paths). */
    void copyTo(String path, Path dir) throws IOException {
        Optional<byte[]> b = read(path);
        if (b.isPresent()) {
            Path local = dir.resolve(path);
            Files.createDirectories(local.getParent());
            Files.write(local, b.get());
        }
    }

    /**
     * Finishes or drops interrupted writes, as {@link RollForwardFiles#recover} does in a mounted folder: a sibling
     * whose content matches the checksum in its name is written over its target, any other sibling is removed.
     */
    List<String> recover() throws IOException {
        List<String> done = new ArrayList<>();
        for (String f : files()) {
            String name = Path.of(f).getFileName().toString();
            Matcher m = SIBLING.matcher(name);
            if (!m.matches()) {
                continue;
            }
            byte[] content = read(f).orElse(new byte[0]);
            String target = (f.contains("/") ? f.substring(0, f.lastIndexOf('/') + 1) : "") + m.group(1);
            if (sha16(content).equals(m.group(2))) {
                put(target, content);
                done.add(target);
            }
            delete(f);
        }
        return done;
    }

    private void put(String path, byte[] content) throws IOException {
        Path tmp = Files.createTempFile("hupd-fat", ".tmp");
        try {
            Files.write(tmp, content);
            Commands.Result r = mtool("mcopy", "-o", "-D", "o", tmp.toString(), "::/" + path);
            if (!r.ok()) {
                throw new IOException("cannot write " + path + " on the boot partition " + node + ": "
                        + complaint(r));
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private void makeParents(String path) throws IOException {
        String[] parts = path.split("/");
        StringBuilder dir = new StringBuilder();
        for (int i = 0; i < parts.length - 1; i++) {
            dir.append(i == 0 ? "" : "/").append(parts[i]);
            if (mtool("mdir", "-b", "::/" + dir).ok()) {
                continue;
            }
            Commands.Result r = mtool("mmd", "::/" + dir);
            if (!r.ok()) {
                throw new IOException("cannot make the folder " + dir + " on the boot partition " + node + ": "
                        + complaint(r));
            }
        }
    }

    private Commands.Result mtool(String tool, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ToolPaths.find(tool), "-i", node.toString()));
        cmd.addAll(List.of(args));
        return Commands.run(cmd, Duration.ofSeconds(120), null, ENV, null);
    }

    /** mtools warn that a partition node has no disk geometry; that line is noise, the next one is the error. */
    private static String complaint(Commands.Result r) {
        for (String line : r.stderr().split("\n")) {
            if (!line.isBlank() && !line.contains("Could not get geometry")) {
                return line.strip();
            }
        }
        return "exit code " + r.exitCode();
    }

    private static String sha16(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content)).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
