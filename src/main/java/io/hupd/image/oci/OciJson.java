package io.hupd.image.oci;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Strict reading of OCI JSON documents that may come from anyone: size and nesting capped, duplicate keys and
 * trailing garbage refused (two parsers that disagree on a duplicate key is how signed-manifest bypasses happen),
 * and every problem reported as one line naming the document.
 */
public final class OciJson {
    /** The annotation an OCI layout's index.json names a tag with. */
    public static final String REF_NAME = "org.opencontainers.image.ref.name";
    public static final int MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

    public static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(64)
                    .maxStringLength(1024 * 1024)
                    .maxNumberLength(64)
                    .maxNameLength(4096)
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build())
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    /** Jackson's messages that quote the document's bytes rather than describe its shape. */
    private static final java.util.regex.Pattern QUOTES_THE_CONTENT = java.util.regex.Pattern.compile(
            "Unrecognized token|Unexpected character|Illegal character|Invalid UTF-8|Illegal unquoted character");

    private OciJson() {}

    public static ObjectNode parseObject(byte[] content, String what) throws ImageSourceException {
        if (content.length > MAX_DOCUMENT_BYTES) {
            throw new ImageSourceException(what + " is larger than " + MAX_DOCUMENT_BYTES + " bytes");
        }
        JsonNode node;
        try (JsonParser p = MAPPER.createParser(content)) {
            node = MAPPER.readTree(p);
            if (p.nextToken() != null) {
                throw new ImageSourceException(what + " is not valid JSON: trailing data after the document");
            }
        } catch (JsonProcessingException e) {
            String problem = String.valueOf(e.getOriginalMessage());
            if (!QUOTES_THE_CONTENT.matcher(problem).lookingAt()) {
                throw new ImageSourceException(what + " is not valid JSON: " + Text.firstLine(problem));
            }
            // These quote the offending token, which for a registry's HTML error page or a binary blob is raw
            // bytes; where it went wrong is enough to find it.
            var at = e.getLocation();
            throw new ImageSourceException(what + " is not valid JSON" + (at == null ? ""
                    : " (at line " + at.getLineNr() + ", column " + at.getColumnNr() + ")")
                    + (content.length > 0 && content[0] == '<' ? ": it looks like an HTML or XML page" : ""));
        } catch (ImageSourceException e) {
            throw e;
        } catch (IOException e) {
            throw new ImageSourceException(what + " could not be parsed: " + Text.firstLine(e.getMessage()));
        }
        if (node == null || node.isMissingNode()) {
            throw new ImageSourceException(what + " is empty");
        }
        if (!node.isObject()) {
            throw new ImageSourceException(what + " is not a JSON object");
        }
        return (ObjectNode) node;
    }

    public static String requireString(JsonNode parent, String field, String what) throws ImageSourceException {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            throw new ImageSourceException(what + " has no '" + field + "'");
        }
        if (!n.isTextual()) {
            throw new ImageSourceException(what + ": '" + field + "' is not a string");
        }
        return n.textValue();
    }

    public static String optionalString(JsonNode parent, String field, String what) throws ImageSourceException {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw new ImageSourceException(what + ": '" + field + "' is not a string");
        }
        return n.textValue();
    }

    public static JsonNode optionalObject(JsonNode parent, String field, String what) throws ImageSourceException {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isObject()) {
            throw new ImageSourceException(what + ": '" + field + "' is not an object");
        }
        return n;
    }

    public static JsonNode requireArray(JsonNode parent, String field, String what) throws ImageSourceException {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            throw new ImageSourceException(what + " has no '" + field + "'");
        }
        if (!n.isArray()) {
            throw new ImageSourceException(what + ": '" + field + "' is not an array");
        }
        return n;
    }

    public static Map<String, String> stringMap(JsonNode parent, String field, String what) throws ImageSourceException {
        JsonNode n = optionalObject(parent, field, what);
        Map<String, String> out = new LinkedHashMap<>();
        if (n == null) {
            return out;
        }
        for (var e : n.properties()) {
            if (!e.getValue().isTextual()) {
                throw new ImageSourceException(what + ": '" + field + "." + Text.quote(e.getKey())
                        + "' is not a string");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return out;
    }

    public static Descriptor descriptor(JsonNode node, String what) throws ImageSourceException {
        if (node == null || !node.isObject()) {
            throw new ImageSourceException(what + " is not a JSON object");
        }
        String mediaType = requireString(node, "mediaType", what);
        String digest = requireString(node, "digest", what);
        JsonNode size = node.get("size");
        if (size == null || size.isNull()) {
            throw new ImageSourceException(what + " has no 'size'");
        }
        if (!size.isIntegralNumber() || !size.canConvertToLong() || size.longValue() < 0) {
            throw new ImageSourceException(what + ": 'size' is not a non-negative integer");
        }
        try {
            return new Descriptor(mediaType, digest, size.longValue());
        } catch (IllegalArgumentException e) {
            throw new ImageSourceException(what + ": " + e.getMessage());
        }
    }

    public static ObjectNode descriptorNode(Descriptor d) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("mediaType", d.mediaType());
        n.put("digest", d.digest());
        n.put("size", d.size());
        return n;
    }

    public static byte[] write(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree could not be written", e);
        }
    }
}
