package io.hupd.image.fsimage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hupd.fs.AtomicFiles;
import io.hupd.fs.Commands;
import io.hupd.fs.Trees;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.authoring.OciLayoutWriter;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.Digests;
import io.hupd.image.oci.FsImages;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.MediaTypes;
import io.hupd.image.oci.OciJson;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * {@code hupd image create --format ext4}: the tree packed as a tar layer first (so os-release and the supervisor
 * version are stamped, and entries checked, exactly as for the tar kind), that layer turned into an ext4 image by
 * {@code mke2fs -d} with everything that would vary pinned (UUID and hash seed derived from the version, times
 * clamped to {@code SOURCE_DATE_EPOCH}, no lazy init), then chunked and compressed chunk by chunk.
 */
public final class FsImageWriter {
    /** The clamp for file times when {@code SOURCE_DATE_EPOCH} is not set: 2020-01-01T00:00:00Z. */
    static final long DEFAULT_EPOCH = 1577836800L;
    private static final long MIB = 1 << 20;

    private FsImageWriter() {}

    /**
     * @param sizeBytes the filesystem's size, or 0 to size it from the tree (a quarter more than its bytes plus
     *     16 MiB, grown until mke2fs fits it)
     */
    public static ResolvedImage write(Path rootfs, ImageSpec spec, Path layout, String tag, long sizeBytes)
            throws IOException {
        if (sizeBytes < 0 || sizeBytes % 4096 != 0) {
            throw new UserInputException("bad filesystem size " + sizeBytes + ": a positive multiple of 4096");
        }
        if (!Files.isDirectory(rootfs)) {
            throw new UserInputException("rootfs folder " + rootfs + (Files.exists(rootfs)
                    ? " is not a directory" : " does not exist"));
        }
        OciLayoutWriter.prepareLayout(layout);
        Path blobs = layout.resolve("blobs").resolve("sha256");
        Files.createDirectories(blobs);
        Path scratch = Files.createTempDirectory(layout, ".fsimage-");
        try {
            ResolvedImage tar = OciLayoutWriter.write(rootfs, spec, scratch.resolve("tar"), "build");
            Path tarLayer = scratch.resolve("tar/blobs/sha256").resolve(tar.layers().get(0).hex());
            Path img = scratch.resolve("rootfs.ext4");
            long size = sizeBytes > 0 ? sizeBytes : roundUp(uncompressedSize(tarLayer) * 5 / 4 + 16 * MIB, 4 * MIB);
            for (int tries = 0; ; tries++) {
                String problem = mkfs(tarLayer, img, size, spec.version());
                if (problem == null) {
                    break;
                }
                if (sizeBytes > 0 || tries == 4 || !problem.contains("does not fit")) {
                    throw new UserInputException("cannot make the ext4 image: " + problem);
                }
                size = roundUp(size * 3 / 2, 4 * MIB);
            }
            Layer layer = chunk(img, blobs);
            Descriptor indexBlob = OciLayoutWriter.writeBlob(blobs, FsImages.INDEX, layer.index.toJson());

            // in a fixed order: the config's bytes are part of what must be the same from build to build
            Map<String, String> labels = new LinkedHashMap<>();
            labels.put(OciLayoutWriter.DEVICE_TYPE_LABEL, spec.deviceType());
            labels.put(OciLayoutWriter.VERSION_LABEL, spec.version());
            labels.put(FsImages.SIZE_LABEL, Long.toString(layer.index.imageSize()));
            ObjectNode config = OciJson.MAPPER.createObjectNode();
            config.put("architecture", spec.architecture());
            config.put("os", "linux");
            ObjectNode labelNode = config.putObject("config").putObject("Labels");
            labels.forEach(labelNode::put);
            ObjectNode rootfsNode = config.putObject("rootfs");
            rootfsNode.put("type", "layers");
            // the layer's members decompress to the image, and the index is stored as it is
            rootfsNode.putArray("diff_ids").add(layer.index.imageDigest()).add(indexBlob.digest());
            Descriptor configBlob = OciLayoutWriter.writeBlob(blobs, MediaTypes.OCI_CONFIG, OciJson.write(config));

            ObjectNode manifest = OciJson.MAPPER.createObjectNode();
            manifest.put("schemaVersion", 2);
            manifest.put("mediaType", MediaTypes.OCI_MANIFEST);
            manifest.set("config", OciJson.descriptorNode(configBlob));
            manifest.putArray("layers").add(OciJson.descriptorNode(layer.blob))
                    .add(OciJson.descriptorNode(indexBlob));
            Descriptor manifestBlob = OciLayoutWriter.writeBlob(blobs, MediaTypes.OCI_MANIFEST,
                    OciJson.write(manifest));
            OciLayoutWriter.updateIndex(layout, manifestBlob, tag, spec.architecture());
            return new ResolvedImage(ImageReference.ociLayout(layout, tag).toString(), manifestBlob.digest(),
                    configBlob, List.of(layer.blob, indexBlob), spec.architecture(), "linux", labels);
        } finally {
            Trees.deleteRecursively(scratch);
        }
    }

    private static long roundUp(long v, long unit) {
        return (v + unit - 1) / unit * unit;
    }

    private static long uncompressedSize(Path gzip) throws IOException {
        long n = 0;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gzip), 1 << 16)) {
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) {
                n += r;
            }
        }
        return n;
    }

    /** @return null when made, else mke2fs's complaint */
    private static String mkfs(Path tarLayer, Path img, long size, String version) throws IOException {
        Files.deleteIfExists(img);
        String id = UUID.nameUUIDFromBytes(("hupd-rootfs:" + version).getBytes(StandardCharsets.UTF_8)).toString();
        String seed = UUID.nameUUIDFromBytes(("hupd-hash-seed:" + version).getBytes(StandardCharsets.UTF_8))
                .toString();
        String epoch = System.getenv("SOURCE_DATE_EPOCH");
        if (epoch == null || !epoch.matches("[0-9]{1,12}")) {
            epoch = Long.toString(DEFAULT_EPOCH);
        }
        // C.UTF-8, not C: mke2fs reads the tar through libarchive, which converts the pax headers' UTF-8 names to
        // the locale's charset and fails on a name beyond ASCII under C (Debian's ca-certificates has one)
        Map<String, String> env = Map.of("LC_ALL", "C.UTF-8", "LANG", "C.UTF-8", "E2FSPROGS_FAKE_TIME", epoch,
                "SOURCE_DATE_EPOCH", epoch, "MKE2FS_CONFIG", "/dev/null");
        // MKE2FS_CONFIG=/dev/null: the features are named here, not taken from the build machine's mke2fs.conf
        List<String> cmd = List.of("mke2fs", "-q", "-F", "-t", "ext4", "-L", "resin-root", "-b", "4096",
                "-i", "8192", "-I", "256", "-U", id, "-O",
                "has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize",
                "-E", "hash_seed=" + seed + ",lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0",
                "-d", tarLayer.toString(), img.toString(), (size / 1024) + "k");
        Commands.Result r = Commands.run(cmd, Duration.ofMinutes(10), null, env, null);
        if (r.ok()) {
            return null;
        }
        String err = r.stderr();
        if (err.contains("Could not allocate") || err.contains("No space left")) {
            return "the tree does not fit in " + size / MIB + " MiB";
        }
        return err.lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("mke2fs failed");
    }

    private record Layer(Descriptor blob, ChunkIndex index) {}

    /** Cuts the image into chunks, each one gzip member of the layer blob. */
    static Layer chunk(Path img, Path blobs) throws IOException {
        Path tmp = Files.createTempFile(blobs, ".tmp-fsimage-", "");
        MessageDigest layerMd = Digests.newSha256();
        MessageDigest imageMd = Digests.newSha256();
        List<ChunkIndex.Chunk> chunks = new ArrayList<>();
        Chunker chunker = new Chunker();
        long imageSize;
        try (FileChannel in = FileChannel.open(img, StandardOpenOption.READ);
                OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
            imageSize = in.size();
            byte[] buf = new byte[2 * Chunker.MAX_CHUNK];
            int have = 0;
            long offset = 0;
            long layerOffset = 0;
            boolean eof = false;
            ByteArrayOut member = new ByteArrayOut();
            while (true) {
                while (!eof && have < buf.length) {
                    int r = in.read(ByteBuffer.wrap(buf, have, buf.length - have));
                    if (r < 0) {
                        eof = true;
                    } else {
                        have += r;
                    }
                }
                if (have == 0) {
                    break;
                }
                int len = chunker.cut(buf, 0, have, eof);
                imageMd.update(buf, 0, len);
                member.reset();
                // the JDK's gzip header has no name and no time: the same chunk always gives the same member
                try (GZIPOutputStream gz = new GZIPOutputStream(member, 1 << 16)) {
                    gz.write(buf, 0, len);
                }
                byte[] compressed = member.bytes();
                int clen = member.size();
                out.write(compressed, 0, clen);
                layerMd.update(compressed, 0, clen);
                MessageDigest one = Digests.newSha256();
                one.update(buf, 0, len);
                MessageDigest oneCompressed = Digests.newSha256();
                oneCompressed.update(compressed, 0, clen);
                chunks.add(new ChunkIndex.Chunk(offset, len, Digests.toDigest(one), Chunker.crc(buf, 0, len),
                        layerOffset, clen, Digests.toDigest(oneCompressed)));
                offset += len;
                layerOffset += clen;
                System.arraycopy(buf, len, buf, 0, have - len);
                have -= len;
            }
        }
        try {
            // a blob is readable by all, like the layout's other blobs (a temporary file starts owner-only)
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            AtomicFiles.forceFile(tmp);
            Descriptor d = new Descriptor(FsImages.LAYER, Digests.toDigest(layerMd), Files.size(tmp));
            Files.move(tmp, blobs.resolve(d.hex()), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            AtomicFiles.forceDirectory(blobs);
            return new Layer(d, new ChunkIndex(ChunkIndex.FORMAT_VERSION, "ext4", imageSize,
                    Digests.toDigest(imageMd), Chunker.BLOCK, "gzip", chunks));
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static final class ByteArrayOut extends java.io.ByteArrayOutputStream {
        ByteArrayOut() {
            super(Chunker.MAX_CHUNK + 1024);
        }

        byte[] bytes() {
            return buf;
        }
    }
}
