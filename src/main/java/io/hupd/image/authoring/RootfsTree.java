package io.hupd.image.authoring;

import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The source rootfs folder of {@code hupd image create}, read without following symlinks, as the layer's entries. */
final class RootfsTree {
    enum Kind { DIRECTORY, FILE, SYMLINK }

    /** One entry of the layer; {@code content} replaces the source file's bytes when the writer stamped it. */
    static final class Node {
        final String path;
        final List<String> parts;
        final Kind kind;
        final Path source;
        final int mode;
        final int uid;
        final int gid;
        final long mtimeSeconds;
        final Object inode;
        final int links;
        final String linkTarget;
        byte[] content;

        Node(String path, Kind kind, Path source, int mode, int uid, int gid, long mtimeSeconds, Object inode,
                int links, String linkTarget) {
            this.path = path;
            this.parts = List.of(path.split("/"));
            this.kind = kind;
            this.source = source;
            this.mode = mode;
            this.uid = uid;
            this.gid = gid;
            this.mtimeSeconds = mtimeSeconds;
            this.inode = inode;
            this.links = links;
            this.linkTarget = linkTarget;
        }

        static Node synthetic(String path, Kind kind, int mode, long mtimeSeconds, byte[] content) {
            Node n = new Node(path, kind, null, mode, 0, 0, mtimeSeconds, null, 1, null);
            n.content = content;
            return n;
        }
    }

    final Path root;
    final List<Node> nodes = new ArrayList<>();

    RootfsTree(Path root) {
        this.root = root;
    }

    List<Node> collect() throws IOException {
        walk(root, "");
        return nodes;
    }

    private void walk(Path dir, String prefix) throws IOException {
        List<Path> children = new ArrayList<>();
        try (var list = Files.list(dir)) {
            list.forEach(children::add);
        }
        children.sort(Comparator.comparing(p -> p.getFileName().toString()));
        for (Path child : children) {
            String path = prefix + child.getFileName();
            Map<String, Object> a = Files.readAttributes(child, "unix:mode,uid,gid,ino,dev,nlink,lastModifiedTime",
                    LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            int type = mode & 0170000;
            long mtime = ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.SECONDS);
            int uid = (Integer) a.get("uid");
            int gid = (Integer) a.get("gid");
            Object inode = List.of(a.get("dev"), a.get("ino"));
            int links = (Integer) a.get("nlink");
            switch (type) {
                case 0040000 -> {
                    nodes.add(new Node(path, Kind.DIRECTORY, child, mode & 07777, uid, gid, mtime, null, 1, null));
                    walk(child, path + "/");
                }
                case 0100000 -> nodes.add(new Node(path, Kind.FILE, child, mode & 07777, uid, gid, mtime, inode,
                        links, null));
                case 0120000 -> nodes.add(new Node(path, Kind.SYMLINK, child, 0777, uid, gid, mtime, null, 1,
                        Files.readSymbolicLink(child).toString()));
                default -> throw new UserInputException("rootfs entry " + child
                        + " is a device node, fifo or socket; an OS image holds only files, folders and links");
            }
        }
    }

    /** Follows symlinks inside the tree model (as they would resolve on the device), never on this host. */
    static Node resolveInTree(Map<String, Node> byPath, String path) {
        String current = path;
        for (int hops = 0; hops < 16; hops++) {
            Node n = byPath.get(current);
            if (n == null) {
                return null;
            }
            switch (n.kind) {
                case FILE:
                    return n;
                case DIRECTORY:
                    throw new UserInputException("/" + path + " in the rootfs is a directory");
                default:
                    break;
            }
            List<String> base = n.linkTarget.startsWith("/") ? new ArrayList<>()
                    : new ArrayList<>(n.parts.subList(0, n.parts.size() - 1));
            for (String part : n.linkTarget.split("/")) {
                if (part.isEmpty() || part.equals(".")) {
                    continue;
                }
                if (part.equals("..")) {
                    if (!base.isEmpty()) {
                        base.remove(base.size() - 1);
                    }
                } else {
                    base.add(part);
                }
            }
            current = String.join("/", base);
        }
        throw new UserInputException("/" + path + " in the rootfs is a symlink loop");
    }
}
