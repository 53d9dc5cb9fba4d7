package io.hupd.image.rootfs;

import io.hupd.image.oci.Text;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Decides each tar entry: what kinds an image may hold, the limits on their number, size and names, and where
 * each lands in the tree. A refusal is an {@link EntryRefusal}; the caller names the layer and entry.
 */
final class TarEntryRules {
    private static final int BUFFER = 128 * 1024;

    private final FlattenLimits limits;
    private final ConfinedTree tree;
    private final LayerWhiteouts whiteouts;
    private final SurveyNotes notes;
    private final AttributeWriter attributes;
    private final boolean surveying;
    /** One for all files: a buffer per file was 128 KiB of garbage for each of thousands of small files. */
    private final byte[] copyBuffer = new byte[BUFFER];
    long entries;
    long bytes;

    TarEntryRules(FlattenLimits limits, ConfinedTree tree, LayerWhiteouts whiteouts, SurveyNotes notes,
            AttributeWriter attributes, boolean surveying) {
        this.limits = limits;
        this.tree = tree;
        this.whiteouts = whiteouts;
        this.notes = notes;
        this.attributes = attributes;
        this.surveying = surveying;
    }

    void apply(TarArchiveEntry e, TarArchiveInputStream tar, BudgetedStream budgeted) throws IOException {
        if (++entries > limits.maxEntries()) {
            throw new EntryRefusal("more than " + limits.maxEntries() + " entries in the image");
        }
        String name = e.getName();
        List<String> parts = EntryNames.split(name, "name", limits);
        String path = String.join("/", parts);
        if (path.getBytes(StandardCharsets.UTF_8).length > limits.maxPathLength()) {
            throw new EntryRefusal("path longer than " + limits.maxPathLength() + " bytes");
        }
        for (int i = 0; i < parts.size() - 1; i++) {
            if (parts.get(i).startsWith(LayerWhiteouts.WHITEOUT)) {
                throw new EntryRefusal("a whiteout name is used as a directory");
            }
        }
        if (surveying) {
            notes.noteForm(e, name, path);
        }
        String last = parts.isEmpty() ? "" : parts.get(parts.size() - 1);
        if (last.startsWith(LayerWhiteouts.WHITEOUT)) {
            whiteouts.record(parts, last);
            return;
        }
        byte type = e.getLinkFlag();
        // commons-compress calls any entry whose name ends in '/' a directory, even a symlink
        boolean directory = type == TarConstants.LF_DIR || ((type == TarConstants.LF_NORMAL
                || type == TarConstants.LF_OLDNORM) && name.endsWith("/"));
        if (parts.isEmpty()) {
            if (!directory) {
                throw new EntryRefusal("an entry that is not a directory would replace the root");
            }
            if (!whiteouts.created("")) {
                throw new EntryRefusal("duplicate entry in this layer");
            }
            attributes.rememberDirectory("", EntryAttributes.of(e));
            return;
        }
        if (e.isGNUSparse() || e.isPaxGNUSparse() || e.isStarSparse() || e.isOldGNUSparse()) {
            throw new EntryRefusal("sparse files are not supported");
        }
        if (e.isCharacterDevice() || e.isBlockDevice()) {
            throw new EntryRefusal("device nodes are not allowed in an image");
        }
        if (e.isFIFO()) {
            throw new EntryRefusal("fifos are not allowed in an image");
        }
        if (!whiteouts.created(path)) {
            throw new EntryRefusal("duplicate entry in this layer");
        }
        whiteouts.createdUnder(parts);
        if (directory) {
            Path dir = tree.parentOf(parts, true).resolve(last);
            FlattenTarget.Kind existing = tree.target.kind(dir);
            if (existing != FlattenTarget.Kind.DIRECTORY) {
                if (existing != null) {
                    tree.removeTree(dir, path);
                }
                tree.target.createDirectory(dir);
            }
            if (!surveying) {
                attributes.rememberDirectory(path, EntryAttributes.of(e));
            }
        } else if (e.isSymbolicLink()) {
            String target = e.getLinkName();
            if (target.isEmpty()) {
                throw new EntryRefusal("symlink with an empty target");
            }
            if (target.indexOf('\0') >= 0) {
                throw new EntryRefusal("symlink target contains a NUL byte");
            }
            if (target.getBytes(StandardCharsets.UTF_8).length > limits.maxPathLength()) {
                throw new EntryRefusal("symlink target longer than " + limits.maxPathLength() + " bytes");
            }
            Path link = tree.replaceable(parts, path);
            tree.target.createSymbolicLink(link, target);
            attributes.setOwner(link, EntryAttributes.of(e));
        } else if (type == TarConstants.LF_LINK) {
            hardLink(e, parts, path);
        } else if (type == TarConstants.LF_NORMAL || type == TarConstants.LF_OLDNORM
                || type == TarConstants.LF_CONTIG) {
            regularFile(e, tar, budgeted, parts, path);
        } else {
            throw new EntryRefusal("unsupported entry type '" + Text.quote(String.valueOf((char) type)) + "'");
        }
    }

    private void regularFile(TarArchiveEntry e, TarArchiveInputStream tar, BudgetedStream budgeted,
            List<String> parts, String path) throws IOException {
        long size = e.getSize();
        if (size < 0 || size > limits.maxTotalBytes() - bytes) {
            throw new EntryRefusal("files add up to more than the " + limits.maxTotalBytes()
                    + "-byte limit (this one declares " + size + " bytes)");
        }
        Path file = tree.replaceable(parts, path);
        budgeted.allow(size + 512, "entry data longer than declared");
        long copied = 0;
        try (OutputStream out = tree.target.createFile(file)) {
            byte[] buf = copyBuffer;
            while (true) {
                int n;
                try {
                    n = tar.read(buf, 0, buf.length);
                } catch (IOException ex) {
                    throw new EntryRefusal("corrupt archive: " + LayerArchive.describe(ex));
                }
                if (n < 0) {
                    break;
                }
                out.write(buf, 0, n);
                copied += n;
            }
        }
        if (copied != size) {
            throw new EntryRefusal("archive ended after " + copied + " of " + size + " bytes");
        }
        bytes += size;
        if (surveying) {
            notes.fileSizes.put(path, size);
            notes.treeBytes += size;
            return;
        }
        attributes.setAttributes(file, EntryAttributes.of(e));
    }

    private void hardLink(TarArchiveEntry e, List<String> parts, String path) throws IOException {
        String targetName = e.getLinkName();
        if (targetName.startsWith("/")) {
            throw new EntryRefusal("hard link target '" + Text.quote(targetName) + "' is an absolute path");
        }
        List<String> targetParts;
        try {
            targetParts = EntryNames.split(targetName, "hard link target", limits);
        } catch (EntryRefusal r) {
            throw new EntryRefusal("hard link target '" + Text.quote(targetName) + "' is outside the root ("
                    + r.getMessage() + ")");
        }
        if (targetParts.isEmpty()) {
            throw new EntryRefusal("hard link to the root");
        }
        String targetPath = String.join("/", targetParts);
        if (targetPath.equals(path)) {
            throw new EntryRefusal("hard link to itself");
        }
        Path targetParent = tree.parentOf(targetParts, false);
        Path target = targetParent == null ? null : targetParent.resolve(targetParts.get(targetParts.size() - 1));
        FlattenTarget.Kind a = target == null ? null : tree.target.kind(target);
        if (a == null) {
            throw new EntryRefusal("hard link target '" + Text.quote(targetName) + "' does not exist");
        }
        if (a != FlattenTarget.Kind.FILE) {
            throw new EntryRefusal("hard link target '" + Text.quote(targetName) + "' is not a regular file");
        }
        Path link = tree.replaceable(parts, path);
        tree.target.createLink(link, target);
        if (surveying) {
            notes.treeBytes += notes.fileSizes.getOrDefault(targetPath, 0L);
            notes.fileSizes.put(path, notes.fileSizes.getOrDefault(targetPath, 0L));
            FlattenTarget.InMemory memory = (FlattenTarget.InMemory) tree.target;
            if (memory.keeps(path) && !memory.keeps(targetPath)) {
                // the survey keeps no content under the target's name to show under this one
                notes.notAsIs("a file the checks read is a hard link to '" + Text.quote(targetName) + "'");
            }
        }
    }
}
