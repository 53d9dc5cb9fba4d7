package io.hupd.image.trust;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The "simple signing" payload a sigstore signature signs: which image (a docker reference, the identity) and
 * which manifest (its digest). Everything under {@code critical} must be understood and checked; {@code
 * optional} is ignored.
 */
public record SimpleSigning(String dockerReference, String manifestDigest) {
    public static final String TYPE = "cosign container image signature";
    public static final String MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    public byte[] toJson() {
        ObjectNode doc = JSON.createObjectNode();
        ObjectNode critical = doc.putObject("critical");
        critical.putObject("identity").put("docker-reference", dockerReference);
        critical.putObject("image").put("docker-manifest-digest", manifestDigest);
        critical.put("type", TYPE);
        doc.putNull("optional");
        return doc.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Reads a payload that a trusted key signed; anything it does not understand is refused. */
    public static SimpleSigning parse(byte[] payload) throws SignatureException {
        JsonNode doc;
        try {
            doc = JSON.readTree(payload);
        } catch (IOException e) {
            throw new SignatureException("the signed payload is not JSON");
        }
        JsonNode critical = doc == null ? null : doc.get("critical");
        if (critical == null || !critical.isObject()) {
            throw new SignatureException("the signed payload has no 'critical' section");
        }
        var names = critical.fieldNames();
        while (names.hasNext()) {
            String n = names.next();
            if (!n.equals("identity") && !n.equals("image") && !n.equals("type")) {
                throw new SignatureException("the signed payload has a critical field hupd does not know: " + n);
            }
        }
        if (!TYPE.equals(critical.path("type").asText(null))) {
            throw new SignatureException("the signed payload's type is not '" + TYPE + "'");
        }
        String ref = critical.path("identity").path("docker-reference").asText(null);
        String digest = critical.path("image").path("docker-manifest-digest").asText(null);
        if (ref == null || ref.isBlank() || digest == null || !digest.matches("sha256:[0-9a-f]{64}")) {
            throw new SignatureException("the signed payload does not name an image and a sha256 manifest digest");
        }
        return new SimpleSigning(ref, digest);
    }
}
