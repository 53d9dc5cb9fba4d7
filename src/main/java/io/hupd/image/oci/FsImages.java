package io.hupd.image.oci;

import java.util.Optional;

/**
 * The second image kind: one ext4 filesystem image, ready to be written to a slot as it is, stored as a layer
 * of gzip members (one per chunk, so each chunk decompresses on its own, and the whole layer is still a valid
 * gzip stream of the image) next to a second layer that is its chunk index ({@link ChunkIndex}).
 */
public final class FsImages {
    public static final String LAYER = "application/vnd.hupd.rootfs.ext4.chunked.v1+gzip";
    public static final String INDEX = "application/vnd.hupd.rootfs.ext4.chunk-index.v1+json";
    /** Config label: the size of the filesystem image, so the coherence checks can compare it with the slot. */
    public static final String SIZE_LABEL = "io.hupd.rootfs.ext4.size";

    private FsImages() {}

    /** The two layers of a filesystem-image image; empty for a tar-layer image. */
    public record Layers(Descriptor image, Descriptor index) {}

    public static Optional<Layers> layersOf(ResolvedImage image) {
        if (image.layers().size() == 2 && image.layers().get(0).mediaType().equals(LAYER)
                && image.layers().get(1).mediaType().equals(INDEX)) {
            return Optional.of(new Layers(image.layers().get(0), image.layers().get(1)));
        }
        return Optional.empty();
    }

    public static boolean isFsImage(ResolvedImage image) {
        return layersOf(image).isPresent();
    }

    /** The image's filesystem size from its config, or -1 when it does not say. */
    public static long declaredSize(ResolvedImage image) {
        String s = image.labels() == null ? null : image.labels().get(SIZE_LABEL);
        try {
            return s == null ? -1 : Long.parseLong(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The image with only its config and index: what FETCHING downloads before the chunks are streamed. */
    public static ResolvedImage withoutChunks(ResolvedImage image) {
        Layers l = layersOf(image).orElseThrow();
        return new ResolvedImage(image.reference(), image.manifestDigest(), image.config(),
                java.util.List.of(l.index()), image.architecture(), image.os(), image.labels());
    }

    public static boolean isFsImageLayer(String mediaType) {
        return LAYER.equals(mediaType) || INDEX.equals(mediaType);
    }
}
