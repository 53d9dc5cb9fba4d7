package io.hupd.testkit;

import io.hupd.fs.Commands;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Everything an ext4 slot image says about each path, read with debugfs: type and mode (setuid bits included),
 * owner, size, link count, mtime, extended attributes, symlink target, the SHA-256 of a file's content, and which
 * names share an inode. Two slots filled with the same tree must give equal maps.
 *
 * <p>Two times are left out: lost+found's (mke2fs makes it at its own run time) and a symlink's (the staging
 * folder's symlinks carry the time they were made there; mke2fs from an archive keeps the archive's).
 */
public final class SlotTree {
    private static final Pattern MTIME = Pattern.compile("\\bmtime:\\s*(0x[0-9a-f]+)");
    private static final Pattern LINKS = Pattern.compile("\\bLinks:\\s*(\\d+)");
    private static final Pattern ROOT_MODE = Pattern.compile("\\bMode:\\s*(\\d+)");
    private static final Pattern ROOT_OWNER = Pattern.compile("\\bUser:\\s*(\\d+)\\s+Group:\\s*(\\d+)");
    private static final Pattern FAST_LINK = Pattern.compile("Fast link dest: \"(.*)\"");

    private SlotTree() {}

    public static Map<String, String> read(Path image) throws IOException {
        Map<String, String> out = new TreeMap<>();
        Map<String, List<String>> namesOfInode = new TreeMap<>();
        Map<String, String> inodeOf = new TreeMap<>();
        // The root's own mode and owner (its time is when the tree was made, when the image has no "./" entry).
        String root = debugfs(image, "stat /");
        Matcher rm = ROOT_MODE.matcher(root);
        Matcher ro = ROOT_OWNER.matcher(root);
        out.put("/", "mode=" + (rm.find() ? rm.group(1) : "?") + " owner=" + (ro.find() ? ro.group(1) + ":"
                + ro.group(2) : "?"));
        walk(image, "/", out, namesOfInode, inodeOf);
        for (Map.Entry<String, String> e : inodeOf.entrySet()) {
            List<String> names = namesOfInode.get(e.getValue());
            if (names.size() > 1) {
                out.put(e.getKey(), out.get(e.getKey()) + " names=" + names);
            }
        }
        return out;
    }

    private static void walk(Path image, String dir, Map<String, String> out, Map<String, List<String>> namesOfInode,
            Map<String, String> inodeOf) throws IOException {
        // ls -p lines: /inode/mode/uid/gid/name/size/
        for (String line : debugfs(image, "ls -p \"" + dir + "\"").split("\n")) {
            String[] f = line.split("/", -1);
            if (f.length != 8 || !f[0].isEmpty() || f[5].isEmpty() || f[5].equals(".") || f[5].equals("..")) {
                continue;
            }
            String path = (dir.equals("/") ? "/" : dir + "/") + f[5];
            int mode = Integer.parseInt(f[2], 8);
            int type = mode & 0170000;
            String stat = debugfs(image, "stat \"" + path + "\"");
            boolean timeKept = type != 0120000 && !path.equals("/lost+found");
            StringBuilder d = new StringBuilder("mode=" + Integer.toOctalString(mode) + " uid=" + f[3] + " gid="
                    + f[4] + " size=" + f[6] + " links=" + group(LINKS, stat)
                    + (timeKept ? " mtime=" + group(MTIME, stat) : ""));
            int xattrs = stat.indexOf("Extended attributes:");
            if (xattrs >= 0) {
                int end = stat.indexOf("\n\n", xattrs);
                d.append(" xattrs=[").append(stat.substring(xattrs, end < 0 ? stat.length() : end)
                        .replaceAll("\\s+", " ")).append(']');
            }
            if (type == 0120000) {
                Matcher m = FAST_LINK.matcher(stat);
                d.append(" target=").append(m.find() ? m.group(1) : debugfs(image, "cat \"" + path + "\""));
            } else if (type == 0100000) {
                d.append(" sha256=").append(sha256(debugfsBytes(image, "cat \"" + path + "\"")));
                namesOfInode.computeIfAbsent(f[1], k -> new ArrayList<>()).add(path);
                inodeOf.put(path, f[1]);
            }
            out.put(path, d.toString());
            if (type == 0040000) {
                walk(image, path, out, namesOfInode, inodeOf);
            }
        }
    }

    private static String group(Pattern p, String text) {
        Matcher m = p.matcher(text);
        return m.find() ? m.group(1) : "?";
    }

    private static String debugfs(Path image, String request) throws IOException {
        return new String(debugfsBytes(image, request), StandardCharsets.UTF_8);
    }

    private static byte[] debugfsBytes(Path image, String request) throws IOException {
        return Commands.run(List.of("debugfs", "-R", request, image.toString()), Duration.ofSeconds(30),
                null, Map.of("LC_ALL", "C", "PAGER", "__none__", "DEBUGFS_PAGER", "__none__"), null).stdout();
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
