package io.hupd.image.trust;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * How cosign (and skopeo's sigstore attachments) store signatures next to an image: an OCI manifest tagged
 * {@code sha256-HEX.sig} whose layers are simple-signing payloads, each with its base64 signature in the
 * {@code dev.cosignproject.cosign/signature} annotation.
 */
public final class CosignSignatures {
    public static final String SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    /** More signatures than this on one image is not rotation but an attempt to make the device work. */
    static final int MAX_SIGNATURES = 16;
    static final int MAX_PAYLOAD_BYTES = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private CosignSignatures() {}

    /** One signature: the payload blob's descriptor and the signature over the payload's bytes. */
    public record Attached(String payloadDigest, long payloadSize, String signatureBase64) {}

    public static String tagFor(String manifestDigest) {
        return manifestDigest.replace(':', '-') + ".sig";
    }

    public static List<Attached> parse(byte[] manifest) throws SignatureException {
        JsonNode doc;
        try {
            doc = JSON.readTree(manifest);
        } catch (IOException e) {
            throw new SignatureException("the signature manifest is not JSON");
        }
        JsonNode layers = doc == null ? null : doc.get("layers");
        if (layers == null || !layers.isArray()) {
            throw new SignatureException("the signature manifest has no layers");
        }
        if (layers.size() > MAX_SIGNATURES) {
            throw new SignatureException("the signature manifest has " + layers.size() + " signatures, more than"
                    + " the " + MAX_SIGNATURES + " hupd reads");
        }
        List<Attached> out = new ArrayList<>();
        for (JsonNode l : layers) {
            if (!SimpleSigning.MEDIA_TYPE.equals(l.path("mediaType").asText())) {
                continue;
            }
            String digest = l.path("digest").asText("");
            long size = l.path("size").asLong(-1);
            String sig = l.path("annotations").path(SIGNATURE_ANNOTATION).asText("");
            if (!digest.matches("sha256:[0-9a-f]{64}") || size < 0 || size > MAX_PAYLOAD_BYTES || sig.isEmpty()) {
                continue;
            }
            out.add(new Attached(digest, size, sig));
        }
        return out;
    }

    /** A signature manifest with one payload: returns its config, then the manifest (blobs to store, in order). */
    public static byte[][] build(byte[] payload, String signatureBase64) {
        ObjectNode config = JSON.createObjectNode();
        config.put("architecture", "");
        config.put("os", "");
        ObjectNode rootfs = config.putObject("rootfs");
        rootfs.put("type", "layers");
        rootfs.putArray("diff_ids").add(sha256(payload));
        config.putObject("config");
        byte[] configBytes = config.toString().getBytes(StandardCharsets.UTF_8);
        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", OCI_MANIFEST);
        m.putObject("config").put("mediaType", OCI_CONFIG).put("digest", sha256(configBytes))
                .put("size", configBytes.length);
        ArrayNode layers = m.putArray("layers");
        ObjectNode layer = layers.addObject();
        layer.put("mediaType", SimpleSigning.MEDIA_TYPE).put("digest", sha256(payload)).put("size", payload.length);
        layer.putObject("annotations").put(SIGNATURE_ANNOTATION, signatureBase64);
        return new byte[][] {configBytes, m.toString().getBytes(StandardCharsets.UTF_8)};
    }

    public static String sha256(byte[] content) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
