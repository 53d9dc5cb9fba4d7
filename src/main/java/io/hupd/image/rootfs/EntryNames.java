package io.hupd.image.rootfs;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The rule for an archive path: components that stay inside the root. Checked as strings first, so that nothing
 * on disk is looked at for a name that could not be inside the root whatever the tree holds.
 */
final class EntryNames {
    /** Linux NAME_MAX: refused with its reason here rather than as an I/O error from the filesystem. */
    static final int MAX_NAME_BYTES = 255;

    private EntryNames() {}

    /** Splits an archive path into components, refusing anything that could leave the root. */
    static List<String> split(String name, String what, FlattenLimits limits) {
        if (name.indexOf('\0') >= 0) {
            throw new EntryRefusal(what + " contains a NUL byte");
        }
        if (name.isEmpty()) {
            throw new EntryRefusal("empty " + what);
        }
        // umoci writes the root folder itself as "/": that is the root, not an absolute path elsewhere
        if (name.startsWith("/") && !name.chars().allMatch(c -> c == '/' || c == '.')) {
            throw new EntryRefusal("absolute path");
        }
        // a cheap bound before the split allocates; the exact limit on the joined path is the entry rules' check
        if (name.length() > 4 * limits.maxPathLength() + 16) {
            throw new EntryRefusal("path longer than " + limits.maxPathLength() + " bytes");
        }
        List<String> parts = new ArrayList<>();
        for (String part : name.split("/", -1)) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                throw new EntryRefusal(what + " has a '..' component");
            }
            if (part.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
                throw new EntryRefusal("a path component is longer than " + MAX_NAME_BYTES + " bytes");
            }
            parts.add(part);
        }
        return parts;
    }
}
