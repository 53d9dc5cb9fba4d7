package io.hupd.image.authoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hupd.fs.AtomicFiles;
import io.hupd.image.fetch.OciLayoutSource;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.trust.CosignSignatures;
import io.hupd.image.trust.SimpleSigning;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Base64;

/** {@code hupd image sign} and {@code keygen}: signatures in an OCI layout, as skopeo and cosign lay them out. */
public final class ImageSigning {
    public static final String DEFAULT_REPOSITORY = "hupd.local/hostos";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ImageSigning() {}

    /** The passphrase file's first line (skopeo's --sign-passphrase-file reads it the same way). */
    public static byte[] passphrase(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new UserInputException("passphrase file " + file + " does not exist");
        }
        if (Files.size(file) > 4096) {
            throw new UserInputException("passphrase file " + file + " is larger than 4 KiB");
        }
        String s = Files.readString(file, StandardCharsets.UTF_8);
        int nl = s.indexOf('\n');
        return (nl >= 0 ? s.substring(0, nl) : s).getBytes(StandardCharsets.UTF_8);
    }

    public static String readKey(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new UserInputException("key file " + file + " does not exist");
        }
        if (Files.size(file) > 64 * 1024) {
            throw new UserInputException("key file " + file + " is larger than 64 KiB");
        }
        return Files.readString(file, StandardCharsets.US_ASCII);
    }

    /** Written owner-only from its creation: the key is never readable by others, not even for a moment. */
    public static void writePrivate(Path file, String pem) throws IOException {
        Files.write(file, pem.getBytes(StandardCharsets.US_ASCII), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        AtomicFiles.forceFile(file);
    }

    /** The docker reference a signature names: {@code --identity}, or hupd's default repository and the tag. */
    public static String identity(String given, String tag) {
        if (given == null) {
            return DEFAULT_REPOSITORY + ":" + tag;
        }
        String s = given.startsWith("docker://") ? given.substring("docker://".length()) : given;
        int slash = s.lastIndexOf('/');
        if (slash <= 0 || s.lastIndexOf(':') < slash || s.contains("@")) {
            throw new UserInputException("--identity must name a repository and a tag (docker://HOST/REPO:TAG), not "
                    + given);
        }
        return s;
    }

    /** Signs what {@code ref}'s tag points to, as {@code identity}; returns the manifest digest signed. */
    public static String signLayout(ImageReference ref, String identity, PrivateKey key) throws IOException {
        String digest = new OciLayoutSource(ref).resolve().manifestDigest();
        byte[] payload = new SimpleSigning(identity, digest).toJson();
        byte[][] blobs = CosignSignatures.build(payload, sign(key, payload));
        Path layout = ref.layoutPath();
        writeBlob(layout, payload);
        writeBlob(layout, blobs[0]);
        writeBlob(layout, blobs[1]);
        tag(layout, CosignSignatures.tagFor(digest), blobs[1]);
        return digest;
    }

    public static String sign(PrivateKey key, byte[] payload) {
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initSign(key);
            s.update(payload);
            return Base64.getEncoder().encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new UserInputException("cannot sign with this key: " + e.getMessage());
        }
    }

    private static void writeBlob(Path layout, byte[] content) throws IOException {
        Path p = layout.resolve("blobs/sha256").resolve(CosignSignatures.sha256(content).substring(7));
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            AtomicFiles.write(p, content);
        }
    }

    /** Replaces whatever {@code tag} named in index.json by {@code manifest} (a new signature replaces the old). */
    private static void tag(Path layout, String tag, byte[] manifest) throws IOException {
        Path indexFile = layout.resolve("index.json");
        JsonNode index = JSON.readTree(Files.readAllBytes(indexFile));
        ArrayNode kept = JSON.createArrayNode();
        for (JsonNode m : index.path("manifests")) {
            if (!tag.equals(m.path("annotations").path("org.opencontainers.image.ref.name").asText(null))) {
                kept.add(m);
            }
        }
        ObjectNode entry = kept.addObject();
        entry.put("mediaType", CosignSignatures.OCI_MANIFEST);
        entry.put("digest", CosignSignatures.sha256(manifest));
        entry.put("size", manifest.length);
        entry.putObject("annotations").put("org.opencontainers.image.ref.name", tag);
        ((ObjectNode) index).set("manifests", kept);
        AtomicFiles.write(indexFile, JSON.writeValueAsBytes(index));
    }
}
