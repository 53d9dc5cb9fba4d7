package io.hupd.image.rootfs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where {@link LayerFlattener} builds a tree: a folder on disk, or (for a survey, which only checks a layer) a
 * record in memory of what the folder would hold. The flattener's rules decide every entry; a target only stores
 * what it is told, never follows a link, and answers what is at a path.
 *
 * <p>Why two: a survey used to build its check-only skeleton on disk, and creating the ~6,000 empty files of an OS
 * tree cost about 2 s of kernel time on ext4 here, most of the survey. The memory target gives the same answers
 * to the same calls (the hostile-archive corpus runs through both and must be refused alike).
 */
interface FlattenTarget {
    enum Kind {
        DIRECTORY, FILE, SYMLINK, OTHER
    }

    /** What is at the path, without following a link; null when nothing is. */
    Kind kind(Path p) throws IOException;

    void createDirectory(Path p) throws IOException;

    void createSymbolicLink(Path link, String target) throws IOException;

    /** A hard link to an existing regular file. */
    void createLink(Path link, Path existing) throws IOException;

    /** A new regular file (never through a link) for the entry's data. */
    OutputStream createFile(Path p) throws IOException;

    /** Removes one non-directory entry. */
    void delete(Path p) throws IOException;

    /** Removes a directory and everything under it. */
    void deleteTree(Path p) throws IOException;

    /** The names directly in a directory. */
    List<String> list(Path dir) throws IOException;

    /** A real folder: the flattened tree the slot is filled from. */
    final class OnDisk implements FlattenTarget {
        @Override
        public Kind kind(Path p) throws IOException {
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                return null;
            }
            return a.isSymbolicLink() ? Kind.SYMLINK : a.isDirectory() ? Kind.DIRECTORY
                    : a.isRegularFile() ? Kind.FILE : Kind.OTHER;
        }

        @Override
        public void createDirectory(Path p) throws IOException {
            Files.createDirectory(p);
        }

        @Override
        public void createSymbolicLink(Path link, String target) throws IOException {
            Files.createSymbolicLink(link, link.getFileSystem().getPath(target));
        }

        @Override
        public void createLink(Path link, Path existing) throws IOException {
            Files.createLink(link, existing);
        }

        @Override
        public OutputStream createFile(Path p) throws IOException {
            return Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS);
        }

        @Override
        public void delete(Path p) throws IOException {
            Files.delete(p);
        }

        @Override
        public void deleteTree(Path p) throws IOException {
            io.hupd.fs.Trees.deleteRecursively(p);
        }

        @Override
        public List<String> list(Path dir) throws IOException {
            List<String> names = new ArrayList<>();
            try (var s = Files.list(dir)) {
                s.forEach(c -> names.add(c.getFileName().toString()));
            }
            return names;
        }
    }

    /**
     * The survey's tree: the kind of every path, and the content of the few files the checks read (each up to
     * {@code keptLimit} bytes; what lies beyond is read and dropped, so a check can still tell the file was larger).
     * Paths are relative ({@code Path.of("")} is the root), so nothing here can reach the disk.
     */
    final class InMemory implements FlattenTarget {
        /**
         * Sorted, so that what lies under a folder is one range ({@code "a/"} up to {@code "a0"}, '0' following
         * '/'): listing or removing a folder costs its subtree, as on disk, not the whole tree. A whiteout names
         * a folder, and a hostile layer may hold as many whiteouts as entries.
         */
        private final java.util.NavigableMap<String, Kind> kinds = new java.util.TreeMap<>();
        private final Map<String, ByteArrayOutputStream> kept = new HashMap<>();
        private final java.util.function.Predicate<String> keepContent;
        private final int keptLimit;

        InMemory(java.util.function.Predicate<String> keepContent, int keptLimit) {
            this.keepContent = keepContent;
            this.keptLimit = keptLimit;
            kinds.put("", Kind.DIRECTORY);
        }

        /** The content of the kept regular files, by path (at most {@code keptLimit + 1} bytes each). */
        Map<String, byte[]> keptContent() {
            Map<String, byte[]> out = new HashMap<>();
            kept.forEach((path, bytes) -> out.put(path, bytes.toByteArray()));
            return out;
        }

        boolean keeps(String path) {
            return keepContent.test(path);
        }

        /** Every folder of the tree, the root ("") included. */
        java.util.Set<String> directories() {
            java.util.Set<String> out = new java.util.HashSet<>();
            kinds.forEach((path, kind) -> {
                if (kind == Kind.DIRECTORY) {
                    out.add(path);
                }
            });
            return out;
        }

        private static String key(Path p) {
            return p.toString();
        }

        private void add(Path p, Kind kind) throws IOException {
            String k = key(p);
            if (kinds.containsKey(k)) {
                throw new FileAlreadyExistsException(k);
            }
            String parent = p.getParent() == null ? "" : key(p.getParent());
            if (kinds.get(parent) != Kind.DIRECTORY) {
                throw new NoSuchFileException(parent);
            }
            kinds.put(k, kind);
        }

        @Override
        public Kind kind(Path p) {
            return kinds.get(key(p));
        }

        @Override
        public void createDirectory(Path p) throws IOException {
            add(p, Kind.DIRECTORY);
        }

        @Override
        public void createSymbolicLink(Path link, String target) throws IOException {
            add(link, Kind.SYMLINK);
        }

        @Override
        public void createLink(Path link, Path existing) throws IOException {
            if (kinds.get(key(existing)) != Kind.FILE) {
                throw new NoSuchFileException(key(existing));
            }
            add(link, Kind.FILE);
            ByteArrayOutputStream content = kept.get(key(existing));
            if (content != null && keepContent.test(key(link))) {
                ByteArrayOutputStream copy = new ByteArrayOutputStream();
                content.writeTo(copy);
                kept.put(key(link), copy);
            }
        }

        @Override
        public OutputStream createFile(Path p) throws IOException {
            add(p, Kind.FILE);
            if (!keepContent.test(key(p))) {
                return OutputStream.nullOutputStream();
            }
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            kept.put(key(p), content);
            return new OutputStream() {
                @Override
                public void write(int b) {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    int room = keptLimit + 1 - content.size();
                    content.write(b, off, Math.max(0, Math.min(room, len)));
                }
            };
        }

        @Override
        public void delete(Path p) throws IOException {
            String k = key(p);
            if (kinds.remove(k) == null) {
                throw new NoSuchFileException(k);
            }
            kept.remove(k);
        }

        /** The paths under a folder ("" is the root): one range of the sorted map. */
        private java.util.SortedMap<String, Kind> under(String folder) {
            return folder.isEmpty() ? kinds.tailMap("", false) : kinds.subMap(folder + "/", folder + "0");
        }

        @Override
        public void deleteTree(Path p) {
            String k = key(p);
            under(k).clear();
            kinds.remove(k);
            kept.keySet().removeIf(x -> x.equals(k) || x.startsWith(k + "/"));
        }

        @Override
        public List<String> list(Path dir) {
            String k = key(dir);
            int from = k.isEmpty() ? 0 : k.length() + 1;
            List<String> names = new ArrayList<>();
            for (String x : under(k).keySet()) {
                if (x.indexOf('/', from) < 0) {
                    names.add(x.substring(from));
                }
            }
            return names;
        }
    }
}
