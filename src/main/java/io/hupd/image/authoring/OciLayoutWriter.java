package io.hupd.image.authoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hupd.fs.AtomicFiles;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.Digests;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.MediaTypes;
import io.hupd.image.oci.OciJson;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.oci.Text;
import io.hupd.ports.UserInputException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Packs a root filesystem folder as a one-layer OCI image ({@code hupd image create}). The same tree always
 * gives the same blobs: entries are sorted, times are whole seconds, user and group names are left empty and
 * the gzip header carries no timestamp.
 */
public final class OciLayoutWriter {
    public static final String DEVICE_TYPE_LABEL = "io.balena.device-type";
    public static final String VERSION_LABEL = "org.opencontainers.image.version";
    /** The anti-rollback security version (docs/trust.md); also {@code HUPD_SECURITY_VERSION} in os-release. */
    public static final String SECURITY_VERSION_LABEL = "io.hupd.security-version";
    private static final String SEMVER = "(?:0|[1-9][0-9]*)\\.(?:0|[1-9][0-9]*)\\.(?:0|[1-9][0-9]*)"
            + "(?:-[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?";
    private static final Pattern VERSION = Pattern.compile(SEMVER);
    private static final Pattern SUPERVISOR_VERSION = Pattern.compile("v?" + SEMVER);
    private static final Pattern DEVICE_TYPE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final Pattern ARCHITECTURE = Pattern.compile("[a-z0-9_]{1,16}");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    private static final String OS_RELEASE = "etc/os-release";
    private static final String SUPERVISOR_CONF = "etc/balena-supervisor/supervisor.conf";
    private static final int BUFFER = 128 * 1024;

    private OciLayoutWriter() {}

    /**
     * Writes {@code rootfs} as one gzip layer under {@code tag} in the layout (created when missing; other tags
     * kept, the same tag replaced). The source folder is never modified: added os-release and supervisor
     * fields exist only in the layer.
     *
     * @throws UserInputException for a missing rootfs, a malformed version, device type, architecture or tag,
     *     special files in the tree, or a folder that is not an OCI layout
     */
    public static ResolvedImage write(Path rootfs, ImageSpec spec, Path layout, String tag) throws IOException {
        check(VERSION, spec.version(), "version", "e.g. 2.115.3 or 2.115.3+rev1");
        check(DEVICE_TYPE, spec.deviceType(), "device type", "e.g. raspberrypi4-64");
        check(ARCHITECTURE, spec.architecture(), "architecture", "an OCI architecture name, e.g. arm64 or amd64");
        if (spec.supervisorVersion().isPresent()) {
            check(SUPERVISOR_VERSION, spec.supervisorVersion().get(), "supervisor version", "e.g. 14.11.2");
        }
        check(TAG, tag, "tag", "letters, digits, '_', '.', '-'");
        if (!Files.isDirectory(rootfs)) {
            throw new UserInputException("rootfs folder " + rootfs + (Files.exists(rootfs)
                    ? " is not a directory" : " does not exist"));
        }
        prepareLayout(layout);

        List<RootfsTree.Node> nodes = new RootfsTree(rootfs.toRealPath()).collect();
        Map<String, RootfsTree.Node> byPath = new LinkedHashMap<>();
        for (RootfsTree.Node n : nodes) {
            byPath.put(n.path, n);
        }
        stampOsRelease(byPath, spec);
        spec.supervisorVersion().ifPresent(v -> stampKeys(byPath, SUPERVISOR_CONF,
                Map.of("SUPERVISOR_VERSION", v), List.of("SUPERVISOR_VERSION")));
        List<RootfsTree.Node> ordered = new ArrayList<>(byPath.values());
        ordered.sort(Comparator.comparing(n -> n.parts, OciLayoutWriter::compareParts));

        Path blobs = layout.resolve("blobs").resolve("sha256");
        Files.createDirectories(blobs);
        LayerResult layer = writeLayer(ordered, blobs);

        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(DEVICE_TYPE_LABEL, spec.deviceType());
        labels.put(VERSION_LABEL, spec.version());
        spec.securityVersion().ifPresent(v -> labels.put(SECURITY_VERSION_LABEL, Long.toString(v)));
        ObjectNode config = OciJson.MAPPER.createObjectNode();
        config.put("architecture", spec.architecture());
        config.put("os", "linux");
        ObjectNode inner = config.putObject("config");
        ObjectNode labelNode = inner.putObject("Labels");
        labels.forEach(labelNode::put);
        ObjectNode rootfsNode = config.putObject("rootfs");
        rootfsNode.put("type", "layers");
        rootfsNode.putArray("diff_ids").add(layer.diffId);
        Descriptor configDescriptor = writeBlob(blobs, MediaTypes.OCI_CONFIG, OciJson.write(config));

        ObjectNode manifest = OciJson.MAPPER.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", MediaTypes.OCI_MANIFEST);
        manifest.set("config", OciJson.descriptorNode(configDescriptor));
        manifest.putArray("layers").add(OciJson.descriptorNode(layer.descriptor));
        Descriptor manifestDescriptor = writeBlob(blobs, MediaTypes.OCI_MANIFEST, OciJson.write(manifest));

        updateIndex(layout, manifestDescriptor, tag, spec.architecture());
        return new ResolvedImage(ImageReference.ociLayout(layout, tag).toString(),
                manifestDescriptor.digest(), configDescriptor, List.of(layer.descriptor), spec.architecture(),
                "linux", labels);
    }

    private static void check(Pattern p, String value, String what, String hint) {
        if (value == null || !p.matcher(value).matches()) {
            throw new UserInputException("bad " + what + " '" + Text.quote(value) + "' (" + hint + ")");
        }
    }

    public static void prepareLayout(Path layout) throws IOException {
        Path marker = layout.resolve("oci-layout");
        if (Files.exists(layout)) {
            if (!Files.isDirectory(layout)) {
                throw new UserInputException("image layout " + layout + " exists and is not a directory");
            }
            boolean empty;
            try (var list = Files.list(layout)) {
                empty = list.findAny().isEmpty();
            }
            if (!empty && !Files.exists(marker)) {
                throw new UserInputException("folder " + layout + " is not empty and not an OCI image layout"
                        + " (no oci-layout file)");
            }
        }
        Files.createDirectories(layout);
        if (!Files.exists(marker)) {
            AtomicFiles.writeString(marker, "{\"imageLayoutVersion\":\"1.0.0\"}");
        }
    }

    public static void updateIndex(Path layout, Descriptor manifest, String tag, String architecture)
            throws IOException {
        Path indexFile = layout.resolve("index.json");
        ObjectNode index;
        if (Files.exists(indexFile)) {
            byte[] existing = Files.readAllBytes(indexFile);
            index = OciJson.parseObject(existing, indexFile.toString());
            JsonNode m = index.get("manifests");
            if (m != null && !m.isArray()) {
                throw new UserInputException(indexFile + ": 'manifests' is not an array; refusing to rewrite it");
            }
        } else {
            index = OciJson.MAPPER.createObjectNode();
            index.put("schemaVersion", 2);
            index.put("mediaType", MediaTypes.OCI_INDEX);
        }
        ObjectNode entry = OciJson.descriptorNode(manifest);
        ObjectNode platform = entry.putObject("platform");
        platform.put("architecture", architecture);
        platform.put("os", "linux");
        entry.putObject("annotations").put(OciJson.REF_NAME, tag);

        ArrayNode rewritten = OciJson.MAPPER.createArrayNode();
        boolean placed = false;
        JsonNode old = index.get("manifests");
        if (old != null) {
            for (JsonNode e : old) {
                JsonNode name = e.path("annotations").path(OciJson.REF_NAME);
                if (name.isTextual() && name.textValue().equals(tag)) {
                    if (!placed) {
                        rewritten.add(entry);
                        placed = true;
                    }
                } else {
                    rewritten.add(e);
                }
            }
        }
        if (!placed) {
            rewritten.add(entry);
        }
        index.set("manifests", rewritten);
        AtomicFiles.write(indexFile, OciJson.write(index));
    }

    public static Descriptor writeBlob(Path blobs, String mediaType, byte[] content) throws IOException {
        Descriptor d = new Descriptor(mediaType, Digests.of(content), content.length);
        AtomicFiles.write(blobs.resolve(d.hex()), content);
        return d;
    }

    static int compareParts(List<String> a, List<String> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = a.get(i).compareTo(b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    /** Adds the os-release fields hupd and balena read, keeping every field the tree already has. */
    private static void stampOsRelease(Map<String, RootfsTree.Node> byPath, ImageSpec spec) throws IOException {
        Map<String, String> wanted = new LinkedHashMap<>();
        wanted.put("ID", "balena-os");
        wanted.put("NAME", "balenaOS");
        wanted.put("VERSION", spec.version());
        wanted.put("VERSION_ID", spec.version());
        wanted.put("BALENA_DEVICE_TYPE", spec.deviceType());
        spec.securityVersion().ifPresent(v -> wanted.put("HUPD_SECURITY_VERSION", Long.toString(v)));
        stampKeys(byPath, OS_RELEASE, wanted, List.copyOf(wanted.keySet()));
    }

    private static void stampKeys(Map<String, RootfsTree.Node> byPath, String path, Map<String, String> values,
            List<String> order) {
        try {
            RootfsTree.Node file = RootfsTree.resolveInTree(byPath, path);
            if (file == null) {
                ensureParents(byPath, path);
                StringBuilder content = new StringBuilder();
                for (String key : order) {
                    content.append(key).append('=').append(values.get(key)).append('\n');
                }
                byPath.put(path, RootfsTree.Node.synthetic(path, RootfsTree.Kind.FILE, 0644, parentMtime(byPath, path),
                        content.toString().getBytes(StandardCharsets.UTF_8)));
                return;
            }
            byte[] old = file.content != null ? file.content : Files.readAllBytes(file.source);
            String text = new String(old, StandardCharsets.UTF_8);
            Set<String> present = new LinkedHashSet<>();
            for (String line : text.split("\n")) {
                String l = line.strip();
                int eq = l.indexOf('=');
                if (!l.startsWith("#") && eq > 0) {
                    present.add(l.substring(0, eq).strip());
                }
            }
            StringBuilder added = new StringBuilder(text);
            if (!text.isEmpty() && !text.endsWith("\n")) {
                added.append('\n');
            }
            boolean changed = false;
            for (String key : order) {
                if (!present.contains(key)) {
                    added.append(key).append('=').append(values.get(key)).append('\n');
                    changed = true;
                }
            }
            if (changed) {
                // a stamped file is its own inode in the layer, so other hard links keep the original bytes
                RootfsTree.Node stamped = new RootfsTree.Node(file.path, RootfsTree.Kind.FILE, file.source, file.mode, file.uid, file.gid,
                        file.mtimeSeconds, null, 1, null);
                stamped.content = added.toString().getBytes(StandardCharsets.UTF_8);
                byPath.put(file.path, stamped);
            }
        } catch (IOException e) {
            throw new UserInputException("could not read " + path + " in the rootfs: " + e.getMessage(), e);
        }
    }

    private static void ensureParents(Map<String, RootfsTree.Node> byPath, String path) {
        List<String> parts = List.of(path.split("/"));
        for (int i = 1; i < parts.size(); i++) {
            String dir = String.join("/", parts.subList(0, i));
            RootfsTree.Node n = byPath.get(dir);
            if (n == null) {
                byPath.put(dir, RootfsTree.Node.synthetic(dir, RootfsTree.Kind.DIRECTORY, 0755, parentMtime(byPath, dir), null));
            } else if (n.kind != RootfsTree.Kind.DIRECTORY) {
                throw new UserInputException("/" + dir + " in the rootfs is not a directory; cannot add /" + path);
            }
        }
    }

    private static long parentMtime(Map<String, RootfsTree.Node> byPath, String path) {
        int slash = path.lastIndexOf('/');
        RootfsTree.Node parent = slash < 0 ? null : byPath.get(path.substring(0, slash));
        return parent == null ? 0 : parent.mtimeSeconds;
    }

    private record LayerResult(Descriptor descriptor, String diffId) {}

    private static LayerResult writeLayer(List<RootfsTree.Node> nodes, Path blobs) throws IOException {
        Path tmp = blobs.resolve(".tmp-layer-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        MessageDigest compressedMd = Digests.newSha256();
        MessageDigest uncompressedMd = Digests.newSha256();
        try {
            try (OutputStream file = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                    OutputStream compressed = new DigestOutputStream(new BufferedOutputStream(file, BUFFER), compressedMd);
                    GZIPOutputStream gzip = new GZIPOutputStream(compressed, BUFFER);
                    TarArchiveOutputStream tar = new TarArchiveOutputStream(
                            new DigestOutputStream(gzip, uncompressedMd), "UTF-8")) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                tar.setAddPaxHeadersForNonAsciiNames(true);
                Map<Object, String> firstPathOfInode = new HashMap<>();
                for (RootfsTree.Node n : nodes) {
                    writeEntry(tar, n, firstPathOfInode);
                }
                tar.finish();
            }
            AtomicFiles.forceFile(tmp);
            Descriptor d = new Descriptor(MediaTypes.OCI_LAYER_GZIP, Digests.toDigest(compressedMd), Files.size(tmp));
            Files.move(tmp, blobs.resolve(d.hex()), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            AtomicFiles.forceDirectory(blobs);
            return new LayerResult(d, Digests.toDigest(uncompressedMd));
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void writeEntry(TarArchiveOutputStream tar, RootfsTree.Node n, Map<Object, String> firstPathOfInode)
            throws IOException {
        TarArchiveEntry e;
        String leader = null;
        if (n.kind == RootfsTree.Kind.FILE && n.inode != null && n.links > 1) {
            leader = firstPathOfInode.putIfAbsent(n.inode, n.path);
        }
        if (n.kind == RootfsTree.Kind.DIRECTORY) {
            e = new TarArchiveEntry(n.path + "/", TarConstants.LF_DIR);
        } else if (n.kind == RootfsTree.Kind.SYMLINK) {
            e = new TarArchiveEntry(n.path, TarConstants.LF_SYMLINK);
            e.setLinkName(n.linkTarget);
        } else if (leader != null) {
            e = new TarArchiveEntry(n.path, TarConstants.LF_LINK);
            e.setLinkName(leader);
        } else {
            e = new TarArchiveEntry(n.path, TarConstants.LF_NORMAL);
        }
        e.setMode(n.mode);
        e.setUserId((long) n.uid);
        e.setGroupId((long) n.gid);
        e.setUserName("");
        e.setGroupName("");
        e.setModTime(FileTime.from(n.mtimeSeconds, TimeUnit.SECONDS));
        boolean hasContent = n.kind == RootfsTree.Kind.FILE && leader == null;
        long size = 0;
        if (hasContent) {
            size = n.content != null ? n.content.length : Files.size(n.source);
        }
        e.setSize(size);
        tar.putArchiveEntry(e);
        if (hasContent) {
            if (n.content != null) {
                tar.write(n.content);
            } else {
                long copied;
                try (InputStream in = Files.newInputStream(n.source, LinkOption.NOFOLLOW_LINKS)) {
                    copied = copyExactly(in, tar, size);
                } catch (NoSuchFileException ex) {
                    throw new IOException("rootfs file " + n.source + " vanished while packing it");
                }
                if (copied != size) {
                    throw new IOException("rootfs file " + n.source + " changed size while packing it");
                }
            }
        }
        tar.closeArchiveEntry();
    }

    private static long copyExactly(InputStream in, OutputStream out, long size) throws IOException {
        byte[] buf = new byte[BUFFER];
        long copied = 0;
        while (copied < size) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, size - copied));
            if (n < 0) {
                break;
            }
            out.write(buf, 0, n);
            copied += n;
        }
        if (copied == size && in.read() >= 0) {
            return copied + 1;
        }
        return copied;
    }
}
