package io.hupd.image.fsimage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.image.oci.Digests;
import io.hupd.image.oci.ImageSourceException;
import java.io.IOException;
import java.util.List;

/**
 * The index blob of a filesystem-image layer: where each chunk sits in the image and in the layer, with the
 * digests to check it by. Pinned by the manifest (its own layer descriptor), so each chunk is as trusted as the
 * manifest once its digest matches.
 *
 * @param crc32c of the uncompressed chunk: a cheap first test when looking for the chunk in what the device
 *     already has (a match is then confirmed by {@code digest})
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ChunkIndex(int formatVersion, String filesystem, long imageSize, String imageDigest, int blockSize,
        String compression, List<Chunk> chunks) {
    public static final int FORMAT_VERSION = 1;
    /** An index larger than this is refused before it is parsed (a 4 GiB image at 64 KiB chunks is ~16 MiB). */
    public static final long MAX_BYTES = 32L << 20;
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Chunk(long offset, int length, String digest, int crc32c, long layerOffset, int layerLength,
            String layerDigest) {}

    public ChunkIndex {
        chunks = List.copyOf(chunks);
    }

    public byte[] toJson() throws IOException {
        return JSON.writeValueAsBytes(this);
    }

    /** Parses and checks that the chunks tile the image and the layer exactly, in order. */
    public static ChunkIndex parse(byte[] json, long layerSize, String what) throws IOException {
        ChunkIndex index;
        try {
            index = JSON.readValue(json, ChunkIndex.class);
        } catch (IOException e) {
            throw new ImageSourceException(what + ": not a chunk index: " + e.getMessage().lines().findFirst()
                    .orElse(""));
        }
        if (index.formatVersion != FORMAT_VERSION || !"ext4".equals(index.filesystem)
                || !"gzip".equals(index.compression)) {
            throw new ImageSourceException(what + ": chunk index format " + index.formatVersion + " ("
                    + index.filesystem + ", " + index.compression + ") is not one this hupd reads");
        }
        try {
            Digests.requireSha256(index.imageDigest);
            long image = 0;
            long layer = 0;
            for (Chunk c : index.chunks) {
                Digests.requireSha256(c.digest);
                Digests.requireSha256(c.layerDigest);
                if (c.offset != image || c.layerOffset != layer || c.length <= 0 || c.layerLength <= 0
                        || c.length > Chunker.MAX_CHUNK) {
                    throw new ImageSourceException(what + ": chunk at " + c.offset + " does not follow the one "
                            + "before it");
                }
                image += c.length;
                layer += c.layerLength;
            }
            if (image != index.imageSize || layer != layerSize) {
                throw new ImageSourceException(what + ": the chunks cover " + image + " bytes of the image and "
                        + layer + " of the layer; the index says " + index.imageSize + " and the layer has "
                        + layerSize);
            }
        } catch (IllegalArgumentException e) {
            throw new ImageSourceException(what + ": " + e.getMessage());
        }
        return index;
    }
}
