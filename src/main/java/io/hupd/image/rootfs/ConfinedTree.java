package io.hupd.image.rootfs;

import io.hupd.image.oci.Text;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The tree under the root, reached only through components that are real folders, each looked at without
 * following links before it is used. This is sound because the root is fresh and private and the flattener is
 * its only writer: nothing can swap a component between the check and the use.
 */
final class ConfinedTree {
    final Path root;
    final FlattenTarget target;
    private final SurveyNotes notes;
    private final AttributeWriter attributes;

    ConfinedTree(Path root, FlattenTarget target, SurveyNotes notes, AttributeWriter attributes) {
        this.root = root;
        this.target = target;
        this.notes = notes;
        this.attributes = attributes;
    }

    /**
     * Resolves the parent folder of an entry, checking each component without following links.
     *
     * @return null when a component is missing and {@code create} is false
     */
    Path parentOf(List<String> parts, boolean create) throws IOException {
        Path cur = root;
        for (int i = 0; i < parts.size() - 1; i++) {
            cur = cur.resolve(parts.get(i));
            FlattenTarget.Kind a = target.kind(cur);
            if (a == null) {
                if (!create) {
                    return null;
                }
                notes.notAsIs("entries that come before their folder's entry");
                target.createDirectory(cur);
                continue;
            }
            if (a == FlattenTarget.Kind.SYMLINK) {
                throw new EntryRefusal("parent '" + Text.quote(String.join("/", parts.subList(0, i + 1)))
                        + "' is a symlink; refusing to go through it");
            }
            if (a != FlattenTarget.Kind.DIRECTORY) {
                throw new EntryRefusal("parent '" + Text.quote(String.join("/", parts.subList(0, i + 1)))
                        + "' is not a directory");
            }
        }
        return cur;
    }

    /**
     * The folder at a path already split and checked, or null when something else or nothing is there.
     *
     * @throws EntryRefusal when a component on the way is not a real folder
     */
    Path existingDirectory(String path) throws IOException {
        if (path.isEmpty()) {
            return root;
        }
        List<String> parts = List.of(path.split("/"));
        Path parent = parentOf(parts, false);
        if (parent == null) {
            return null;
        }
        Path p = parent.resolve(parts.get(parts.size() - 1));
        return target.kind(p) == FlattenTarget.Kind.DIRECTORY ? p : null;
    }

    /** The path for a new non-directory entry, with whatever was there removed (never written through). */
    Path replaceable(List<String> parts, String path) throws IOException {
        Path p = parentOf(parts, true).resolve(parts.get(parts.size() - 1));
        if (target.kind(p) != null) {
            removeTree(p, path);
        }
        return p;
    }

    void removeTree(Path p, String path) throws IOException {
        FlattenTarget.Kind a = target.kind(p);
        if (a == null) {
            return;
        }
        if (a == FlattenTarget.Kind.DIRECTORY) {
            target.deleteTree(p);
            attributes.forgetTree(path);
        } else {
            target.delete(p);
        }
    }
}
