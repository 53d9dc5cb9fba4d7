package io.hupd.image.rootfs;

import io.hupd.image.oci.MediaTypes;
import io.hupd.image.oci.Text;
import io.hupd.ports.UserInputException;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Applies OCI layers, in order, into an empty folder, refusing anything that could reach outside it.
 *
 * <p>Safety does not rest on string checks alone: before anything is created, every parent component of the
 * entry is looked at on the real filesystem without following links, and must be a real directory. This is
 * sound because the root is fresh and private and this is the only writer: nothing can swap a component
 * between the check and the use. Files are created with O_EXCL|O_NOFOLLOW after unlinking whatever was there,
 * so no write ever goes through a symlink. A {@link #survey} asks the same questions of a record in memory
 * instead of a folder ({@link FlattenTarget}).
 */
public final class LayerFlattener {
    private static final String WHITEOUT = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";
    private static final int MAX_NAME_BYTES = 255;
    /** Bytes the tar reader may consume for headers between two entries (PAX records, GNU long names). */
    private static final long HEADER_BUDGET = 1024 * 1024;
    private static final int BUFFER = 128 * 1024;

    private LayerFlattener() {}

    /**
     * @param mediaTypes one per layer blob: plain tar or tar+gzip; zstd is refused
     * @throws UserInputException "layer N entry 'PATH': why" for a hostile or malformed layer; the caller
     *     discards {@code root} on any error
     */
    public static FlattenStats flatten(List<Path> layerBlobs, List<String> mediaTypes, Path root,
            FlattenLimits limits) throws IOException {
        List<LayerOpener> openers = new ArrayList<>();
        for (Path blob : layerBlobs) {
            openers.add(() -> Files.newInputStream(blob));
        }
        return flattenStreams(openers, mediaTypes, root, limits);
    }

    /** Opens one layer's (possibly compressed) bytes; the flattener closes the stream. */
    @FunctionalInterface
    public interface LayerOpener {
        InputStream open() throws IOException;
    }

    /**
     * As {@link #flatten(List, List, Path, FlattenLimits)}, reading each layer from a stream the caller opens
     * (for example one that verifies the blob's digest as the layer is applied).
     */
    public static FlattenStats flattenStreams(List<LayerOpener> layerBlobs, List<String> mediaTypes, Path root,
            FlattenLimits limits) throws IOException {
        if (layerBlobs.size() != mediaTypes.size()) {
            throw new IllegalArgumentException(layerBlobs.size() + " layers but " + mediaTypes.size()
                    + " media types");
        }
        checkRoot(root);
        for (int i = 0; i < mediaTypes.size(); i++) {
            String why = MediaTypes.whyLayerUnsupported(mediaTypes.get(i));
            if (why != null) {
                throw new UserInputException("layer " + (i + 1) + ": " + why);
            }
        }
        Flattening f = new Flattening(root.toRealPath(), new FlattenTarget.OnDisk(), limits);
        for (int i = 0; i < layerBlobs.size(); i++) {
            f.applyLayer(i + 1, layerBlobs.get(i), MediaTypes.layerCompression(mediaTypes.get(i)));
        }
        f.applyDirectoryAttributes();
        return new FlattenStats(f.entries, f.bytes);
    }

    /**
     * What a check-only pass over one layer found.
     *
     * @param treeBytes the bytes of regular files in the tree, a hard-linked file counted once per name (as a walk
     *     of the flattened folder counts them)
     * @param whyNotAsIs null when the archive, given as it is to a tool that fills a filesystem from a tar (mke2fs
     *     1.47.1 {@code -d}), makes the same tree as {@link #flatten} would; otherwise what stands in the way
     * @param fileSizes every regular file of the tree by path (hard links under each of their names)
     * @param kept the content of the regular files the caller asked to keep, each cut after
     *     {@code keptLimit + 1} bytes
     * @param directories the folders of the tree, by path ("" is the root)
     */
    public record Survey(FlattenStats stats, long treeBytes, String whyNotAsIs, Map<String, Long> fileSizes,
            Map<String, byte[]> kept, Set<String> directories) {}

    /**
     * Applies every check of {@link #flatten} to one layer, refusing exactly what it refuses, and writes nothing:
     * the tree it would make is kept in memory as the kind of each path, the size of each file and the content of
     * the few files {@code keepContent} names (paths like {@code etc/os-release}). The checks themselves are the
     * flattener's own, made against that record through the same calls the folder answers (see
     * {@link FlattenTarget}), so the two cannot drift apart.
     *
     * <p>Besides hostile entries, it notes what the archive holds that a filesystem-from-tar tool would turn into
     * a different tree: whiteouts (which the flattener applies and the tool would write as files), entries whose
     * folder has no entry of its own before them (the flattener makes it, mke2fs stops), names not in plain form,
     * extended attributes (the flattener drops them, mke2fs keeps file capabilities), an archive without its end
     * blocks, and names that are not UTF-8.
     *
     * @param keptLimit bytes kept of each kept file (one more is kept, so that a check can tell it was larger)
     * @throws UserInputException as {@link #flatten} does
     */
    public static Survey survey(LayerOpener layer, String mediaType, FlattenLimits limits,
            Predicate<String> keepContent, int keptLimit) throws IOException {
        String why = MediaTypes.whyLayerUnsupported(mediaType);
        if (why != null) {
            throw new UserInputException("layer 1: " + why);
        }
        FlattenTarget.InMemory tree = new FlattenTarget.InMemory(keepContent, keptLimit);
        Flattening f = new Flattening(Path.of(""), tree, limits);
        f.applyLayer(1, layer, MediaTypes.layerCompression(mediaType));
        return new Survey(new FlattenStats(f.entries, f.bytes), f.treeBytes, f.notAsIs, f.fileSizes,
                tree.keptContent(), tree.directories());
    }

    private static void checkRoot(Path root) throws IOException {
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("flatten root " + root + " is not a directory");
        }
        try (var list = Files.list(root)) {
            if (list.findAny().isPresent()) {
                throw new IllegalArgumentException("flatten root " + root + " is not empty");
            }
        }
    }

    /** Owner, mode and mtime of an entry, applied after its content. */
    private record Attributes(int uid, int gid, int mode, FileTime mtime) {
        static Attributes of(TarArchiveEntry e) {
            return new Attributes((int) e.getLongUserId(), (int) e.getLongGroupId(), e.getMode() & 07777,
                    e.getLastModifiedTime());
        }
    }

    /** A refusal with the layer/entry context attached by {@link Flattening#applyLayer}. */
    private static final class Refusal extends RuntimeException {
        Refusal(String why) {
            super(why, null, false, false);
        }
    }

    /** Raised by the stream wrapper when the archive reader wants more bytes than the budget allows. */
    private static final class BudgetExceeded extends IOException {
        BudgetExceeded(String message) {
            super(message);
        }
    }

    /** Lets the caller cap how far the tar reader may read before it next gets control back. */
    private static final class BudgetedStream extends FilterInputStream {
        long position;
        boolean atEnd;
        long limit = Long.MAX_VALUE;
        String overrun = "";

        BudgetedStream(InputStream in) {
            super(in);
        }

        void allow(long bytesFromHere, String whyIfOverrun) {
            limit = bytesFromHere > Long.MAX_VALUE - position ? Long.MAX_VALUE : position + bytesFromHere;
            overrun = whyIfOverrun;
        }

        private void charge(long n) throws BudgetExceeded {
            if (n > 0) {
                position += n;
                if (position > limit) {
                    throw new BudgetExceeded(overrun);
                }
            }
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                charge(1);
            } else {
                atEnd = true;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n < 0) {
                atEnd = true;
            }
            charge(n);
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(n);
            charge(skipped);
            return skipped;
        }
    }

    private static final class Flattening {
        final Path root;
        final FlattenTarget tree;
        final FlattenLimits limits;
        /** One for all files: a buffer per file was 128 KiB of garbage for each of thousands of small files. */
        final byte[] copyBuffer = new byte[BUFFER];
        long entries;
        long bytes;
        boolean ownershipPermitted = true;
        /** Survey only: sizes of the regular files by path, for hard links and the tree's total. */
        final Map<String, Long> fileSizes = new java.util.HashMap<>();
        long treeBytes;
        String notAsIs;
        /** Directories with the attributes their newest entry asked for, set last (children change mtimes). */
        final NavigableMap<String, Attributes> directories = new TreeMap<>();

        // per layer
        int layer;
        final Set<String> createdInLayer = new HashSet<>();
        final Set<String> ancestorsOfCreated = new HashSet<>();
        final Set<String> whiteoutsInLayer = new HashSet<>();
        final List<String> whiteoutTargets = new ArrayList<>();
        final List<String> opaqueDirs = new ArrayList<>();

        Flattening(Path root, FlattenTarget tree, FlattenLimits limits) {
            this.root = root;
            this.tree = tree;
            this.limits = limits;
        }

        /** A survey: nothing is written, and owners, modes and times are not applied. */
        boolean surveying() {
            return tree instanceof FlattenTarget.InMemory;
        }

        /** The first reason the archive cannot be handed to a filesystem-from-tar tool as it is. */
        void notAsIs(String why) {
            if (notAsIs == null) {
                notAsIs = why;
            }
        }

        void applyLayer(int number, LayerOpener blob, MediaTypes.Compression compression) throws IOException {
            layer = number;
            createdInLayer.clear();
            ancestorsOfCreated.clear();
            whiteoutsInLayer.clear();
            whiteoutTargets.clear();
            opaqueDirs.clear();
            try (InputStream file = blob.open()) {
                InputStream raw = new BufferedInputStream(file, BUFFER);
                InputStream plain;
                try {
                    plain = compression == MediaTypes.Compression.GZIP ? new GZIPInputStream(raw, BUFFER) : raw;
                } catch (IOException e) {
                    throw new UserInputException("layer " + number + ": not a gzip stream: "
                            + Text.firstLine(e.getMessage()));
                }
                BudgetedStream budgeted = new BudgetedStream(plain);
                TarArchiveInputStream tar = new TarArchiveInputStream(budgeted, "UTF-8");
                long dataEnd = 0;
                String current = null;
                while (true) {
                    budgeted.allow(Math.max(0, dataEnd - budgeted.position) + 512 + HEADER_BUDGET,
                            "tar headers larger than " + HEADER_BUDGET + " bytes");
                    TarArchiveEntry entry;
                    try {
                        entry = tar.getNextEntry();
                    } catch (BudgetExceeded e) {
                        throw new UserInputException("layer " + number + (current == null ? "" : " after entry '"
                                + Text.quote(current) + "'") + ": " + e.getMessage());
                    } catch (IOException | RuntimeException e) {
                        if (current != null && budgeted.atEnd && budgeted.position == dataEnd) {
                            // umoci 0.4.7 (Debian 12) ends layers right after the last file's data, without
                            // padding or end-of-archive blocks; Go's tar reader, and so Docker, accept that.
                            // The blob's digest was verified, so this is the producer's whole archive.
                            notAsIs("the archive ends without its end-of-archive blocks");
                            break;
                        }
                        throw new UserInputException("layer " + number + (current == null ? "" : " after entry '"
                                + Text.quote(current) + "'") + ": corrupt archive: " + describe(e));
                    }
                    if (entry == null) {
                        break;
                    }
                    current = entry.getName();
                    dataEnd = budgeted.position + Math.max(0, entry.getSize());
                    try {
                        applyEntry(entry, tar, budgeted);
                    } catch (Refusal r) {
                        throw new UserInputException("layer " + number + " entry '" + Text.quote(entry.getName())
                                + "': " + r.getMessage());
                    }
                }
            }
            applyLowerDeletions();
        }

        private static String describe(Throwable e) {
            String m = e.getMessage();
            return m == null ? e.getClass().getSimpleName() : Text.firstLine(m);
        }

        void applyEntry(TarArchiveEntry e, TarArchiveInputStream tar, BudgetedStream budgeted) throws IOException {
            if (++entries > limits.maxEntries()) {
                throw new Refusal("more than " + limits.maxEntries() + " entries in the image");
            }
            String name = e.getName();
            List<String> parts = split(name, "name");
            String path = String.join("/", parts);
            if (path.getBytes(StandardCharsets.UTF_8).length > limits.maxPathLength()) {
                throw new Refusal("path longer than " + limits.maxPathLength() + " bytes");
            }
            for (int i = 0; i < parts.size() - 1; i++) {
                if (parts.get(i).startsWith(WHITEOUT)) {
                    throw new Refusal("a whiteout name is used as a directory");
                }
            }
            if (surveying()) {
                noteForm(e, name, path);
            }
            String last = parts.isEmpty() ? "" : parts.get(parts.size() - 1);
            if (last.startsWith(WHITEOUT)) {
                whiteout(parts, last);
                return;
            }
            byte type = e.getLinkFlag();
            // commons-compress calls any entry whose name ends in '/' a directory, even a symlink
            boolean directory = type == TarConstants.LF_DIR || ((type == TarConstants.LF_NORMAL
                    || type == TarConstants.LF_OLDNORM) && name.endsWith("/"));
            if (parts.isEmpty()) {
                if (!directory) {
                    throw new Refusal("an entry that is not a directory would replace the root");
                }
                if (!createdInLayer.add("")) {
                    throw new Refusal("duplicate entry in this layer");
                }
                directories.put("", Attributes.of(e));
                return;
            }
            if (e.isGNUSparse() || e.isPaxGNUSparse() || e.isStarSparse() || e.isOldGNUSparse()) {
                throw new Refusal("sparse files are not supported");
            }
            if (e.isCharacterDevice() || e.isBlockDevice()) {
                throw new Refusal("device nodes are not allowed in an image");
            }
            if (e.isFIFO()) {
                throw new Refusal("fifos are not allowed in an image");
            }
            if (!createdInLayer.add(path)) {
                throw new Refusal("duplicate entry in this layer");
            }
            for (int i = 1; i < parts.size(); i++) {
                ancestorsOfCreated.add(String.join("/", parts.subList(0, i)));
            }
            if (directory) {
                Path dir = parentOf(parts, true).resolve(last);
                FlattenTarget.Kind existing = tree.kind(dir);
                if (existing != FlattenTarget.Kind.DIRECTORY) {
                    if (existing != null) {
                        removeTree(dir, path);
                    }
                    tree.createDirectory(dir);
                }
                if (!surveying()) {
                    directories.put(path, Attributes.of(e));
                }
            } else if (e.isSymbolicLink()) {
                String target = e.getLinkName();
                if (target.isEmpty()) {
                    throw new Refusal("symlink with an empty target");
                }
                if (target.indexOf('\0') >= 0) {
                    throw new Refusal("symlink target contains a NUL byte");
                }
                if (target.getBytes(StandardCharsets.UTF_8).length > limits.maxPathLength()) {
                    throw new Refusal("symlink target longer than " + limits.maxPathLength() + " bytes");
                }
                Path link = replaceable(parts, path);
                tree.createSymbolicLink(link, target);
                setOwner(link, Attributes.of(e));
            } else if (type == TarConstants.LF_LINK) {
                hardLink(e, parts, path);
            } else if (type == TarConstants.LF_NORMAL || type == TarConstants.LF_OLDNORM
                    || type == TarConstants.LF_CONTIG) {
                regularFile(e, tar, budgeted, parts, path);
            } else {
                throw new Refusal("unsupported entry type '" + Text.quote(String.valueOf((char) type)) + "'");
            }
        }

        /** mke2fs looks names up component by component as they are written: "a//b" or "a/./b" would fail. */
        private void noteForm(TarArchiveEntry e, String name, String path) {
            if (!plainForm(name, path)) {
                notAsIs("entry names not in plain form ('" + Text.quote(name) + "')");
            }
            if (name.indexOf('\uFFFD') >= 0 || e.getLinkName().indexOf('\uFFFD') >= 0) {
                notAsIs("names that are not UTF-8");
            }
            for (String key : e.getExtraPaxHeaders().keySet()) {
                if (key.startsWith("SCHILY.xattr.") || key.startsWith("LIBARCHIVE.xattr.")) {
                    notAsIs("extended attributes");
                }
            }
            byte type = e.getLinkFlag();
            if (name.endsWith("/") && type != TarConstants.LF_DIR) {
                notAsIs("folders written as files with a trailing '/'");
            }
            if (type == TarConstants.LF_LINK) {
                if (e.getSize() != 0) {
                    notAsIs("hard links that carry data");
                }
                if (!plainForm(e.getLinkName(), null)) {
                    notAsIs("hard link targets not in plain form ('" + Text.quote(e.getLinkName()) + "')");
                }
            }
        }

        /** The name is its components joined by '/', with at most a leading "./" or "/" and a trailing '/'. */
        private static boolean plainForm(String name, String path) {
            String n = name;
            if (n.startsWith("./")) {
                n = n.substring(2);
            } else if (n.startsWith("/")) {
                n = n.substring(1);
            }
            if (n.endsWith("/")) {
                n = n.substring(0, n.length() - 1);
            }
            if (path == null) {
                for (String part : n.split("/", -1)) {
                    if (part.isEmpty() || part.equals(".")) {
                        return false;
                    }
                }
                return true;
            }
            return n.equals(path) || (path.isEmpty() && (n.isEmpty() || n.equals(".")));
        }

        private void regularFile(TarArchiveEntry e, TarArchiveInputStream tar, BudgetedStream budgeted,
                List<String> parts, String path) throws IOException {
            long size = e.getSize();
            if (size < 0 || size > limits.maxTotalBytes() - bytes) {
                throw new Refusal("files add up to more than the " + limits.maxTotalBytes()
                        + "-byte limit (this one declares " + size + " bytes)");
            }
            Path file = replaceable(parts, path);
            budgeted.allow(size + 512, "entry data longer than declared");
            long copied = 0;
            try (OutputStream out = tree.createFile(file)) {
                byte[] buf = copyBuffer;
                while (true) {
                    int n;
                    try {
                        n = tar.read(buf, 0, buf.length);
                    } catch (IOException ex) {
                        throw new Refusal("corrupt archive: " + describe(ex));
                    }
                    if (n < 0) {
                        break;
                    }
                    out.write(buf, 0, n);
                    copied += n;
                }
            }
            if (copied != size) {
                throw new Refusal("archive ended after " + copied + " of " + size + " bytes");
            }
            bytes += size;
            if (surveying()) {
                fileSizes.put(path, size);
                treeBytes += size;
                return;
            }
            setAttributes(file, Attributes.of(e));
        }

        private void hardLink(TarArchiveEntry e, List<String> parts, String path) throws IOException {
            String targetName = e.getLinkName();
            if (targetName.startsWith("/")) {
                throw new Refusal("hard link target '" + Text.quote(targetName) + "' is an absolute path");
            }
            List<String> targetParts;
            try {
                targetParts = split(targetName, "hard link target");
            } catch (Refusal r) {
                throw new Refusal("hard link target '" + Text.quote(targetName) + "' is outside the root ("
                        + r.getMessage() + ")");
            }
            if (targetParts.isEmpty()) {
                throw new Refusal("hard link to the root");
            }
            String targetPath = String.join("/", targetParts);
            if (targetPath.equals(path)) {
                throw new Refusal("hard link to itself");
            }
            Path targetParent = parentOf(targetParts, false);
            Path target = targetParent == null ? null : targetParent.resolve(targetParts.get(targetParts.size() - 1));
            FlattenTarget.Kind a = target == null ? null : tree.kind(target);
            if (a == null) {
                throw new Refusal("hard link target '" + Text.quote(targetName) + "' does not exist");
            }
            if (a != FlattenTarget.Kind.FILE) {
                throw new Refusal("hard link target '" + Text.quote(targetName) + "' is not a regular file");
            }
            Path link = replaceable(parts, path);
            tree.createLink(link, target);
            if (surveying()) {
                treeBytes += fileSizes.getOrDefault(targetPath, 0L);
                fileSizes.put(path, fileSizes.getOrDefault(targetPath, 0L));
                FlattenTarget.InMemory memory = (FlattenTarget.InMemory) tree;
                if (memory.keeps(path) && !memory.keeps(targetPath)) {
                    // the survey keeps no content under the target's name to show under this one
                    notAsIs("a file the checks read is a hard link to '" + Text.quote(targetName) + "'");
                }
            }
        }

        /** Records a whiteout; deletions of lower content happen at the end of the layer. */
        private void whiteout(List<String> parts, String last) throws IOException {
            notAsIs("whiteouts");
            String dir = String.join("/", parts.subList(0, parts.size() - 1));
            if (!whiteoutsInLayer.add(String.join("/", parts))) {
                throw new Refusal("duplicate whiteout in this layer");
            }
            parentOf(parts, false);
            if (last.equals(OPAQUE)) {
                opaqueDirs.add(dir);
                return;
            }
            String hidden = last.substring(WHITEOUT.length());
            if (hidden.isEmpty()) {
                throw new Refusal("bare whiteout '.wh.' names nothing");
            }
            if (hidden.equals(".") || hidden.equals("..") || hidden.startsWith(WHITEOUT)) {
                throw new Refusal("malformed whiteout '" + Text.quote(last) + "'");
            }
            whiteoutTargets.add(dir.isEmpty() ? hidden : dir + "/" + hidden);
        }

        /**
         * Whiteouts hide only what lower layers put there, wherever they stand in the layer. Doing the deletions
         * after the layer and sparing what the layer itself created gives that order-independence in one pass.
         */
        private void applyLowerDeletions() throws IOException {
            for (String dir : opaqueDirs) {
                Path d = existingDirectory(dir);
                if (d == null) {
                    continue;
                }
                for (String child : tree.list(d)) {
                    removeLower(dir.isEmpty() ? child : dir + "/" + child);
                }
            }
            for (String target : whiteoutTargets) {
                removeLower(target);
            }
        }

        private Path existingDirectory(String path) throws IOException {
            if (path.isEmpty()) {
                return root;
            }
            List<String> parts = List.of(path.split("/"));
            Path parent;
            try {
                parent = parentOf(parts, false);
            } catch (Refusal r) {
                throw new UserInputException("layer " + layer + " whiteout in '" + Text.quote(path) + "': "
                        + r.getMessage());
            }
            if (parent == null) {
                return null;
            }
            Path p = parent.resolve(parts.get(parts.size() - 1));
            return tree.kind(p) == FlattenTarget.Kind.DIRECTORY ? p : null;
        }

        private void removeLower(String path) throws IOException {
            if (createdInLayer.contains(path) || ancestorsOfCreated.contains(path)) {
                Path d = existingDirectory(path);
                if (d == null) {
                    return;
                }
                for (String child : tree.list(d)) {
                    removeLower(path + "/" + child);
                }
                return;
            }
            List<String> parts = List.of(path.split("/"));
            Path parent;
            try {
                parent = parentOf(parts, false);
            } catch (Refusal r) {
                throw new UserInputException("layer " + layer + " whiteout of '" + Text.quote(path) + "': "
                        + r.getMessage());
            }
            if (parent == null) {
                return;
            }
            Path p = parent.resolve(parts.get(parts.size() - 1));
            if (tree.kind(p) != null) {
                removeTree(p, path);
            }
        }

        /**
         * Resolves the parent folder of an entry, checking each component on disk without following links.
         *
         * @return null when a component is missing and {@code create} is false
         */
        private Path parentOf(List<String> parts, boolean create) throws IOException {
            Path cur = root;
            for (int i = 0; i < parts.size() - 1; i++) {
                cur = cur.resolve(parts.get(i));
                FlattenTarget.Kind a = tree.kind(cur);
                if (a == null) {
                    if (!create) {
                        return null;
                    }
                    notAsIs("entries that come before their folder's entry");
                    tree.createDirectory(cur);
                    continue;
                }
                if (a == FlattenTarget.Kind.SYMLINK) {
                    throw new Refusal("parent '" + Text.quote(String.join("/", parts.subList(0, i + 1)))
                            + "' is a symlink; refusing to go through it");
                }
                if (a != FlattenTarget.Kind.DIRECTORY) {
                    throw new Refusal("parent '" + Text.quote(String.join("/", parts.subList(0, i + 1)))
                            + "' is not a directory");
                }
            }
            return cur;
        }

        /** The path for a new non-directory entry, with whatever was there removed (never written through). */
        private Path replaceable(List<String> parts, String path) throws IOException {
            Path p = parentOf(parts, true).resolve(parts.get(parts.size() - 1));
            if (tree.kind(p) != null) {
                removeTree(p, path);
            }
            return p;
        }

        private void removeTree(Path p, String path) throws IOException {
            FlattenTarget.Kind a = tree.kind(p);
            if (a == null) {
                return;
            }
            if (a == FlattenTarget.Kind.DIRECTORY) {
                tree.deleteTree(p);
                directories.remove(path);
                directories.subMap(path + "/", true, path + "0", false).clear();
            } else {
                tree.delete(p);
            }
        }

        /** Splits an archive path into components, refusing anything that could leave the root. */
        private List<String> split(String name, String what) {
            if (name.indexOf('\0') >= 0) {
                throw new Refusal(what + " contains a NUL byte");
            }
            if (name.isEmpty()) {
                throw new Refusal("empty " + what);
            }
            // umoci writes the root folder itself as "/": that is the root, not an absolute path elsewhere
            if (name.startsWith("/") && !name.chars().allMatch(c -> c == '/' || c == '.')) {
                throw new Refusal("absolute path");
            }
            if (name.length() > 4 * limits.maxPathLength() + 16) {
                throw new Refusal("path longer than " + limits.maxPathLength() + " bytes");
            }
            List<String> parts = new ArrayList<>();
            for (String part : name.split("/", -1)) {
                if (part.isEmpty() || part.equals(".")) {
                    continue;
                }
                if (part.equals("..")) {
                    throw new Refusal(what + " has a '..' component");
                }
                if (part.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
                    throw new Refusal("a path component is longer than " + MAX_NAME_BYTES + " bytes");
                }
                parts.add(part);
            }
            return parts;
        }

        private void setOwner(Path p, Attributes a) throws IOException {
            if (!ownershipPermitted || surveying()) {
                return;
            }
            try {
                Files.setAttribute(p, "unix:uid", a.uid(), LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(p, "unix:gid", a.gid(), LinkOption.NOFOLLOW_LINKS);
            } catch (FileSystemException e) {
                if (e.getReason() != null && e.getReason().contains("not permitted")) {
                    ownershipPermitted = false;
                } else {
                    throw e;
                }
            } catch (UnsupportedOperationException e) {
                ownershipPermitted = false;
            }
        }

        /** Owner first: chown clears setuid/setgid, so the mode has to come after it. */
        private void setAttributes(Path p, Attributes a) throws IOException {
            setOwner(p, a);
            Files.setAttribute(p, "unix:mode", a.mode(), LinkOption.NOFOLLOW_LINKS);
            Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .setTimes(a.mtime(), null, null);
        }

        /** Deepest first, so setting a child's mtime does not disturb its parent's. */
        void applyDirectoryAttributes() throws IOException {
            for (Map.Entry<String, Attributes> d : directories.descendingMap().entrySet()) {
                Path p = d.getKey().isEmpty() ? root : existingDirectory(d.getKey());
                if (p != null) {
                    setAttributes(p, d.getValue());
                }
            }
        }
    }
}
