package io.hupd.adapters.sim;

import static io.hupd.adapters.sim.E2fsTools.TOOL_ENV;
import static io.hupd.adapters.sim.E2fsTools.firstRealLine;
import static io.hupd.adapters.sim.E2fsTools.tool;
import static io.hupd.adapters.sim.E2fsTools.toolError;

import io.hupd.adapters.sim.Ext4Image.Entry;
import io.hupd.adapters.sim.Ext4Image.Type;
import io.hupd.fs.Commands;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reading a slot's files with debugfs, nothing mounted: what a path is, a file's content, a folder's names, a
 * folder copied out. Apart from {@link Ext4Image}, which makes the filesystem, because reading is its own job
 * with its own rules: debugfs's request quoting and the text of its stat output.
 */
final class DebugfsReader {
    private static final long MIB = 1024 * 1024;
    private static final Pattern STAT_TYPE = Pattern.compile("^Inode:\\s*\\d+\\s+Type:\\s*(\\S+)", Pattern.MULTILINE);
    private static final Pattern STAT_SIZE = Pattern.compile("\\bSize:\\s*(\\d+)");
    private static final String FAST_LINK = "Fast link dest: \"";

    private final Ext4Image image;
    private final Path file;

    DebugfsReader(Ext4Image image) {
        this.image = image;
        this.file = image.file();
    }

    private boolean present() {
        return image.present();
    }

    private String relativeName() {
        return image.relativeName();
    }

    private String name() {
        return image.name();
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

    private static Duration readTimeout(long bytes) {
        return Duration.ofSeconds(30 + bytes / MIB);
    }
}
