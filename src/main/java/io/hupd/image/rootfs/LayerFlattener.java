package io.hupd.image.rootfs;

import io.hupd.image.oci.MediaTypes;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Applies OCI layers, in order, into an empty folder, refusing anything that could reach outside it.
 *
 * <p>Safety does not rest on string checks alone ({@link EntryNames}): before anything is created, every parent
 * component of the entry is looked at on the real filesystem without following links, and must be a real
 * directory ({@link ConfinedTree}). Files are created with O_EXCL|O_NOFOLLOW after unlinking whatever was there,
 * so no write ever goes through a symlink. A {@link #survey} asks the same questions of a record in memory
 * instead of a folder ({@link FlattenTarget}).
 *
 * <p>The work is shared out: {@link LayerArchive} reads a layer's tar, {@link TarEntryRules} decides each entry,
 * {@link LayerWhiteouts} hides what lower layers made, {@link AttributeWriter} sets owners, modes and times, and
 * {@link SurveyNotes} keeps what a survey reports beyond refusals.
 */
public final class LayerFlattener {
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
        return f.stats();
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
        return new Survey(f.stats(), f.notes.treeBytes, f.notes.whyNotAsIs(), f.notes.fileSizes,
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

    /**
     * One flatten or survey: the rules, the whiteouts and the tree they share, over a folder or over the
     * survey's record of one.
     */
    private static final class Flattening {
        final SurveyNotes notes = new SurveyNotes();
        final AttributeWriter attributes;
        final ConfinedTree tree;
        final LayerWhiteouts whiteouts;
        final TarEntryRules rules;

        Flattening(Path root, FlattenTarget target, FlattenLimits limits) {
            // a survey writes nothing, so owners, modes and times are not applied
            boolean surveying = target instanceof FlattenTarget.InMemory;
            attributes = new AttributeWriter(surveying);
            tree = new ConfinedTree(root, target, notes, attributes);
            whiteouts = new LayerWhiteouts(tree, notes);
            rules = new TarEntryRules(limits, tree, whiteouts, notes, attributes, surveying);
        }

        void applyLayer(int number, LayerOpener blob, MediaTypes.Compression compression) throws IOException {
            whiteouts.startLayer(number);
            LayerArchive.read(number, blob, compression, rules, notes);
            whiteouts.applyLowerDeletions();
        }

        void applyDirectoryAttributes() throws IOException {
            // every folder still recorded has real folders above it (a replaced folder forgets its subtree), so
            // this lookup does not refuse
            attributes.applyToDirectories(tree.root, whiteouts::existingDirectory);
        }

        FlattenStats stats() {
            return new FlattenStats(rules.entries, rules.bytes);
        }
    }
}
