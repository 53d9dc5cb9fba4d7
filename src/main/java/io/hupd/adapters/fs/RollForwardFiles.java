package io.hupd.adapters.fs;

import io.hupd.fs.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Boot-partition writes that a power cut cannot leave half done, even on FAT, where a rename over an existing
 * file is not atomic (the old and the new directory entry share clusters for a moment).
 *
 * <p>A write first leaves the whole new content in a hidden sibling whose name carries the content's checksum,
 * {@code .<name>.<first 16 hex of its SHA-256>.hupdrw}, forced to disk with its folder; then the usual atomic
 * replace; then the sibling goes. {@link #recover} — run before the boot partition is used — finishes what a
 * crash interrupted: a sibling whose content matches the checksum in its name holds a write that was decided
 * and is completed (roll forward); a sibling that does not match was torn while it was being written, so the
 * target was never touched and the sibling is simply removed. Leftover temp files of the atomic replace are
 * removed too. (The same idea as balena's fatrw; the code and the name format are hupd's own.)
 *
 * <p>Only one writer may use a boot partition at a time (hupd's device lock), since recovery treats every
 * sibling it finds as a leftover.
 */
public final class RollForwardFiles {
    static final String SUFFIX = ".hupdrw";
    /** 64 bits of SHA-256 tell a torn write from a whole one; a longer name would only cost FAT directory slots. */
    static final int CHECKSUM_HEX = 16;
    private static final Pattern SIBLING = Pattern.compile("\\.(.+)\\.([0-9a-f]{" + CHECKSUM_HEX + "})"
            + Pattern.quote(SUFFIX));
    /** {@link AtomicFiles}' temp names: {@code .<name>.<hex>.tmp}. */
    private static final Pattern ATOMIC_TEMP = Pattern.compile("\\..+\\.[0-9a-f]{1,16}\\.tmp");

    /** What one recovery did, by path relative to the folder it scanned. */
    public record Recovery(List<String> rolledForward, List<String> removed) {
        public boolean isEmpty() {
            return rolledForward.isEmpty() && removed.isEmpty();
        }
    }

    private RollForwardFiles() {}

    /** Replaces {@code target} with {@code content} so that a crash at any point leaves the old or, after recovery, the new file. */
    public static void write(Path target, byte[] content) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path sibling = siblingOf(target, content);
        writeForced(sibling, content);
        AtomicFiles.forceDirectory(dir);
        AtomicFiles.write(target, content);
        AtomicFiles.delete(sibling);
    }

    /** The sibling a write of {@code content} to {@code target} leaves until it is complete. */
    public static Path siblingOf(Path target, byte[] content) {
        return target.resolveSibling("." + target.getFileName() + "." + checksum(content) + SUFFIX);
    }

    /** True for names that are this class's or {@link AtomicFiles}' own work files, never boot files. */
    public static boolean isWorkFile(String fileName) {
        return SIBLING.matcher(fileName).matches() || ATOMIC_TEMP.matcher(fileName).matches();
    }

    /**
     * Completes or discards every interrupted write below {@code root} (all folders, since boot files live in
     * sub-folders too). Safe to run any number of times; a missing folder has nothing to recover.
     */
    public static Recovery recover(Path root) throws IOException {
        List<String> forward = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            return new Recovery(forward, removed);
        }
        List<Path> candidates;
        try (Stream<Path> s = Files.walk(root)) {
            candidates = s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                    .filter(p -> isWorkFile(p.getFileName().toString()))
                    .sorted()
                    .toList();
        }
        for (Path p : candidates) {
            String rel = root.relativize(p).toString();
            Optional<Path> target = completeTarget(p);
            if (target.isPresent()) {
                byte[] content = Files.readAllBytes(p);
                Path t = target.get();
                boolean same = Files.isRegularFile(t, LinkOption.NOFOLLOW_LINKS)
                        && java.util.Arrays.equals(content, Files.readAllBytes(t));
                if (!same) {
                    AtomicFiles.write(t, content);
                    forward.add(root.relativize(t).toString());
                }
            } else {
                removed.add(rel);
            }
            AtomicFiles.delete(p);
        }
        return new Recovery(List.copyOf(forward), List.copyOf(removed));
    }

    /** The target of a sibling whose content is whole (its checksum matches its name); empty for anything else. */
    private static Optional<Path> completeTarget(Path p) throws IOException {
        Matcher m = SIBLING.matcher(p.getFileName().toString());
        if (!m.matches()) {
            return Optional.empty();
        }
        String name = m.group(1);
        if (name.equals(".") || name.equals("..") || name.contains("/") || isWorkFile(name)) {
            return Optional.empty();
        }
        if (!checksum(Files.readAllBytes(p)).equals(m.group(2))) {
            return Optional.empty();
        }
        Path target = p.resolveSibling(name);
        // A folder of that name is not something a file write could have been replacing.
        return Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS) ? Optional.empty() : Optional.of(target);
    }

    static String checksum(byte[] content) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(content);
            return HexFormat.of().formatHex(d).substring(0, CHECKSUM_HEX);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static void writeForced(Path file, byte[] content) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
    }
}
