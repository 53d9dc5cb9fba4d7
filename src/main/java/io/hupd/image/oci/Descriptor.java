package io.hupd.image.oci;

import java.util.Objects;

/**
 * A pointer to one blob: what it is, its content digest and its exact size. Every blob hupd reads is checked
 * against both while it streams.
 *
 * @throws IllegalArgumentException from the constructor when a field is malformed (callers that build
 *     descriptors from untrusted JSON turn it into their own one-line error)
 */
public record Descriptor(String mediaType, String digest, long size) {
    public Descriptor {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
        if (mediaType.isBlank() || mediaType.length() > 255 || !MediaTypes.isPlausible(mediaType)) {
            throw new IllegalArgumentException("bad media type '" + Text.quote(mediaType) + "'");
        }
        Digests.requireSha256(digest);
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size + " for " + digest);
        }
    }

    /** The 64 hex digits after {@code sha256:}. */
    public String hex() {
        return digest.substring(Digests.PREFIX.length());
    }
}
