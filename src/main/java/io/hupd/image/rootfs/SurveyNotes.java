package io.hupd.image.rootfs;

import io.hupd.image.oci.Text;
import java.util.HashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * What a survey learns besides refusals: the size of every file of the tree, and the first reason the archive,
 * given as it is to a filesystem-from-tar tool (mke2fs {@code -d}), would make another tree than the flattener.
 * The reasons are noted where the flattener meets them, so the verdict follows its rules rather than a second
 * reading of the archive.
 */
final class SurveyNotes {
    /** Sizes of the regular files by path, for hard links and the tree's total. */
    final Map<String, Long> fileSizes = new HashMap<>();
    long treeBytes;
    private String whyNotAsIs;

    /** The first reason the archive cannot be handed to a filesystem-from-tar tool as it is. */
    void notAsIs(String why) {
        if (whyNotAsIs == null) {
            whyNotAsIs = why;
        }
    }

    /** Null when nothing stands in the way. */
    String whyNotAsIs() {
        return whyNotAsIs;
    }

    /** mke2fs looks names up component by component as they are written: "a//b" or "a/./b" would fail. */
    void noteForm(TarArchiveEntry e, String name, String path) {
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
}
