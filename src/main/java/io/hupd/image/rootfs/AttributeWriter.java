package io.hupd.image.rootfs;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Sets the owners, modes and times the entries ask for: a file's at once, a folder's once every layer is applied.
 * A survey writes nothing, so it sets nothing.
 */
final class AttributeWriter {
    /** Finds a folder of the tree by path, or null when it is not one. */
    @FunctionalInterface
    interface DirectoryLookup {
        Path find(String path) throws IOException;
    }

    private final boolean surveying;
    /** Unprivileged, chown fails for every file: tried until the first refusal, then the tree keeps our owner. */
    private boolean ownershipPermitted = true;
    /** Directories with the attributes their newest entry asked for, set last (children change mtimes). */
    private final NavigableMap<String, EntryAttributes> directories = new TreeMap<>();

    AttributeWriter(boolean surveying) {
        this.surveying = surveying;
    }

    void rememberDirectory(String path, EntryAttributes a) {
        directories.put(path, a);
    }

    /** A removed folder's attributes, and those of everything under it, must not land on what replaces it. */
    void forgetTree(String path) {
        directories.remove(path);
        directories.subMap(path + "/", true, path + "0", false).clear();
    }

    void setOwner(Path p, EntryAttributes a) throws IOException {
        if (!ownershipPermitted || surveying) {
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
    void setAttributes(Path p, EntryAttributes a) throws IOException {
        setOwner(p, a);
        Files.setAttribute(p, "unix:mode", a.mode(), LinkOption.NOFOLLOW_LINKS);
        Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .setTimes(a.mtime(), null, null);
    }

    /** Deepest first, so setting a child's mtime does not disturb its parent's. */
    void applyToDirectories(Path root, DirectoryLookup lookup) throws IOException {
        for (Map.Entry<String, EntryAttributes> d : directories.descendingMap().entrySet()) {
            Path p = d.getKey().isEmpty() ? root : lookup.find(d.getKey());
            if (p != null) {
                setAttributes(p, d.getValue());
            }
        }
    }
}
