package io.hupd.image.rootfs;

import io.hupd.image.oci.Text;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What one layer hides of the layers below it ({@code .wh.NAME} for one name, {@code .wh..wh..opq} for a whole
 * folder), and what the layer itself made, which its whiteouts must spare.
 *
 * <p>Whiteouts hide only what lower layers put there, wherever they stand in the layer. Doing the deletions
 * after the layer and sparing what the layer itself created gives that order-independence in one pass.
 */
final class LayerWhiteouts {
    static final String WHITEOUT = ".wh.";
    static final String OPAQUE = ".wh..wh..opq";

    private final ConfinedTree tree;
    private final SurveyNotes notes;
    private int layer;
    private final Set<String> createdInLayer = new HashSet<>();
    private final Set<String> ancestorsOfCreated = new HashSet<>();
    private final Set<String> whiteoutsInLayer = new HashSet<>();
    private final List<String> whiteoutTargets = new ArrayList<>();
    private final List<String> opaqueDirs = new ArrayList<>();

    LayerWhiteouts(ConfinedTree tree, SurveyNotes notes) {
        this.tree = tree;
        this.notes = notes;
    }

    void startLayer(int number) {
        layer = number;
        createdInLayer.clear();
        ancestorsOfCreated.clear();
        whiteoutsInLayer.clear();
        whiteoutTargets.clear();
        opaqueDirs.clear();
    }

    /** @return false when the layer already has an entry at this path */
    boolean created(String path) {
        return createdInLayer.add(path);
    }

    /**
     * The folders above a path the layer created: a whiteout of one of them removes what lay below in it, not the
     * folder the layer's own entries stand in.
     */
    void createdUnder(List<String> parts) {
        for (int i = 1; i < parts.size(); i++) {
            ancestorsOfCreated.add(String.join("/", parts.subList(0, i)));
        }
    }

    /** Records a whiteout; deletions of lower content happen at the end of the layer. */
    void record(List<String> parts, String last) throws IOException {
        notes.notAsIs("whiteouts");
        String dir = String.join("/", parts.subList(0, parts.size() - 1));
        if (!whiteoutsInLayer.add(String.join("/", parts))) {
            throw new EntryRefusal("duplicate whiteout in this layer");
        }
        tree.parentOf(parts, false);
        if (last.equals(OPAQUE)) {
            opaqueDirs.add(dir);
            return;
        }
        String hidden = last.substring(WHITEOUT.length());
        if (hidden.isEmpty()) {
            throw new EntryRefusal("bare whiteout '.wh.' names nothing");
        }
        if (hidden.equals(".") || hidden.equals("..") || hidden.startsWith(WHITEOUT)) {
            throw new EntryRefusal("malformed whiteout '" + Text.quote(last) + "'");
        }
        whiteoutTargets.add(dir.isEmpty() ? hidden : dir + "/" + hidden);
    }

    void applyLowerDeletions() throws IOException {
        for (String dir : opaqueDirs) {
            Path d = existingDirectory(dir);
            if (d == null) {
                continue;
            }
            for (String child : tree.target.list(d)) {
                removeLower(dir.isEmpty() ? child : dir + "/" + child);
            }
        }
        for (String target : whiteoutTargets) {
            removeLower(target);
        }
    }

    /**
     * As {@link ConfinedTree#existingDirectory}, a refusal named after the layer: the deletions run once the layer
     * is read, when there is no entry left to name.
     */
    Path existingDirectory(String path) throws IOException {
        try {
            return tree.existingDirectory(path);
        } catch (EntryRefusal r) {
            throw new UserInputException("layer " + layer + " whiteout in '" + Text.quote(path) + "': "
                    + r.getMessage());
        }
    }

    private void removeLower(String path) throws IOException {
        if (createdInLayer.contains(path) || ancestorsOfCreated.contains(path)) {
            Path d = existingDirectory(path);
            if (d == null) {
                return;
            }
            for (String child : tree.target.list(d)) {
                removeLower(path + "/" + child);
            }
            return;
        }
        List<String> parts = List.of(path.split("/"));
        Path parent;
        try {
            parent = tree.parentOf(parts, false);
        } catch (EntryRefusal r) {
            throw new UserInputException("layer " + layer + " whiteout of '" + Text.quote(path) + "': "
                    + r.getMessage());
        }
        if (parent == null) {
            return;
        }
        Path p = parent.resolve(parts.get(parts.size() - 1));
        if (tree.target.kind(p) != null) {
            tree.removeTree(p, path);
        }
    }
}
