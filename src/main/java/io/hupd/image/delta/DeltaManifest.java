package io.hupd.image.delta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.ImageSourceException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A delta as an OCI artifact: an OCI image manifest whose {@code config} is the target image's config blob
 * (verbatim, so the device learns the target's layer digests from the delta itself and checks them against
 * the target it resolved) and whose layers are one patch per target layer.
 *
 * <pre>
 * artifactType  application/vnd.hupd.delta.v1
 * annotations   io.hupd.delta.target.manifest = the target image's manifest digest
 *               io.hupd.delta.source.manifest = the source image's manifest digest (informative)
 * layers[i]     mediaType application/vnd.hupd.delta.patch.v1+xz, annotations:
 *               io.hupd.delta.target.diff-id / .target.size: the uncompressed target layer i the patch makes
 *               io.hupd.delta.source.diff-id / .source.size / .source.digest: the source layer it applies to
 *               (uncompressed digest and size, and the digest of the compressed blob a full pull caches)
 * </pre>
 */
public record DeltaManifest(String targetManifest, String sourceManifest, Descriptor config, List<Patch> patches) {
    public static final String ARTIFACT_TYPE = "application/vnd.hupd.delta.v1";
    public static final String PATCH_TYPE = "application/vnd.hupd.delta.patch.v1+xz";
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
    private static final String PREFIX = "io.hupd.delta.";
    public static final ObjectMapper JSON = new ObjectMapper();

    /** One patch blob and the layers it joins; {@code sourceDiffId} is null for a layer made from nothing. */
    public record Patch(Descriptor blob, String targetDiffId, long targetSize, String sourceDiffId, long sourceSize,
            String sourceDigest) {
        /** The uncompressed target layer as the device stores it. */
        public Descriptor target() {
            return new Descriptor(OCI_LAYER_TAR, targetDiffId, targetSize);
        }

        public Descriptor sourceTar() {
            return new Descriptor(OCI_LAYER_TAR, sourceDiffId, sourceSize);
        }
    }

    public byte[] toJson() throws IOException {
        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", OCI_MANIFEST);
        m.put("artifactType", ARTIFACT_TYPE);
        m.set("config", descriptor(config));
        var layers = m.putArray("layers");
        for (Patch p : patches) {
            ObjectNode l = descriptor(p.blob());
            ObjectNode a = l.putObject("annotations");
            a.put(PREFIX + "target.diff-id", p.targetDiffId());
            a.put(PREFIX + "target.size", Long.toString(p.targetSize()));
            if (p.sourceDiffId() != null) {
                a.put(PREFIX + "source.diff-id", p.sourceDiffId());
                a.put(PREFIX + "source.size", Long.toString(p.sourceSize()));
                a.put(PREFIX + "source.digest", p.sourceDigest());
            }
            layers.add(l);
        }
        ObjectNode a = m.putObject("annotations");
        a.put(PREFIX + "target.manifest", targetManifest);
        a.put(PREFIX + "source.manifest", sourceManifest);
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m);
    }

    private static ObjectNode descriptor(Descriptor d) {
        ObjectNode n = JSON.createObjectNode();
        n.put("mediaType", d.mediaType());
        n.put("digest", d.digest());
        n.put("size", d.size());
        return n;
    }

    /** @throws ImageSourceException when the document is not a hupd delta, naming what is wrong */
    public static DeltaManifest parse(byte[] json, String what) throws ImageSourceException {
        JsonNode m;
        try {
            m = JSON.readTree(json);
        } catch (IOException e) {
            throw new ImageSourceException(what + " is not JSON");
        }
        if (m == null || !m.isObject() || !ARTIFACT_TYPE.equals(m.path("artifactType").asText(null))) {
            throw new ImageSourceException(what + " is not a hupd delta (artifactType is not " + ARTIFACT_TYPE + ")");
        }
        Map<String, String> annotations = strings(m.path("annotations"));
        String target = require(annotations, "target.manifest", what);
        Descriptor config = descriptorOf(m.path("config"), what + " config");
        List<Patch> patches = new ArrayList<>();
        JsonNode layers = m.path("layers");
        if (!layers.isArray() || layers.isEmpty()) {
            throw new ImageSourceException(what + " has no patches");
        }
        for (int i = 0; i < layers.size(); i++) {
            String lw = what + " patch " + (i + 1);
            Descriptor blob = descriptorOf(layers.get(i), lw);
            if (!PATCH_TYPE.equals(blob.mediaType())) {
                throw new ImageSourceException(lw + " has media type " + blob.mediaType() + ", not " + PATCH_TYPE);
            }
            Map<String, String> a = strings(layers.get(i).path("annotations"));
            String sourceDiffId = a.get(PREFIX + "source.diff-id");
            patches.add(new Patch(blob, digest(require(a, "target.diff-id", lw), lw),
                    number(require(a, "target.size", lw), lw),
                    sourceDiffId == null ? null : digest(sourceDiffId, lw),
                    sourceDiffId == null ? 0 : number(require(a, "source.size", lw), lw),
                    sourceDiffId == null ? null : digest(require(a, "source.digest", lw), lw)));
        }
        return new DeltaManifest(digest(target, what), annotations.get(PREFIX + "source.manifest"), config,
                List.copyOf(patches));
    }

    private static Map<String, String> strings(JsonNode n) {
        Map<String, String> out = new java.util.HashMap<>();
        if (n.isObject()) {
            n.fields().forEachRemaining(e -> {
                if (e.getValue().isTextual()) {
                    out.put(e.getKey(), e.getValue().textValue());
                }
            });
        }
        return out;
    }

    private static String require(Map<String, String> a, String key, String what) throws ImageSourceException {
        String v = a.get(PREFIX + key);
        if (v == null) {
            throw new ImageSourceException(what + " has no annotation " + PREFIX + key);
        }
        return v;
    }

    private static String digest(String v, String what) throws ImageSourceException {
        if (!v.matches("sha256:[0-9a-f]{64}")) {
            throw new ImageSourceException(what + ": '" + v.replaceAll("[^ -~]", "?") + "' is not a sha256 digest");
        }
        return v;
    }

    private static long number(String v, String what) throws ImageSourceException {
        try {
            long n = Long.parseLong(v);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new ImageSourceException(what + ": bad size '" + v.replaceAll("[^ -~]", "?") + "'");
    }

    private static Descriptor descriptorOf(JsonNode n, String what) throws ImageSourceException {
        if (!n.isObject() || !n.path("mediaType").isTextual() || !n.path("digest").isTextual()
                || !n.path("size").canConvertToExactIntegral()) {
            throw new ImageSourceException(what + " is not a descriptor");
        }
        try {
            return new Descriptor(n.path("mediaType").textValue(), digest(n.path("digest").textValue(), what),
                    n.path("size").longValue());
        } catch (IllegalArgumentException e) {
            throw new ImageSourceException(what + ": " + e.getMessage());
        }
    }
}
