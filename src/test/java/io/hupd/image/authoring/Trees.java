package io.hupd.image.authoring;

import io.hupd.image.oci.Digests;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Describes a folder tree as text, so two trees compare with one assertEquals and a readable diff. */
final class Trees {
    private Trees() {}

    /**
     * One line per path below {@code root}: type, mode, owner, mtime (whole seconds), and content digest, link
     * target or hard-link group (the first path of the inode, in sorted order).
     */
    static Map<String, String> describe(Path root, boolean withDirectoryTimes) throws IOException {
        Map<String, String> out = new TreeMap<>();
        Map<Object, String> groups = new HashMap<>();
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.filter(p -> !p.equals(root)).forEach(paths::add);
        }
        paths.sort((a, b) -> root.relativize(a).toString().compareTo(root.relativize(b).toString()));
        for (Path p : paths) {
            String rel = root.relativize(p).toString();
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,ino,nlink,lastModifiedTime",
                    LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            long mtime = ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.SECONDS);
            String owner = a.get("uid") + ":" + a.get("gid");
            String line;
            if (Files.isSymbolicLink(p)) {
                line = "symlink " + owner + " -> " + Files.readSymbolicLink(p);
            } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                line = String.format("dir %04o %s%s", mode & 07777, owner, withDirectoryTimes ? " t=" + mtime : "");
            } else {
                String group = "";
                if ((Integer) a.get("nlink") > 1) {
                    String first = groups.putIfAbsent(a.get("ino"), rel);
                    group = " links=" + (first == null ? rel : first);
                }
                line = String.format("file %04o %s t=%d sha=%s%s", mode & 07777, owner, mtime,
                        Digests.of(Files.readAllBytes(p)).substring(7, 19), group);
            }
            out.put(rel, line);
        }
        return out;
    }
}
