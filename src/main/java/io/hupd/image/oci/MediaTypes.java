package io.hupd.image.oci;

import java.util.Set;
import java.util.regex.Pattern;

/** The media types hupd understands, and which layer compressions it can apply. */
public final class MediaTypes {
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
    public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    static final String DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    public static final Set<String> MANIFESTS = Set.of(OCI_MANIFEST, DOCKER_MANIFEST);
    public static final Set<String> INDEXES = Set.of(OCI_INDEX, DOCKER_LIST);
    public static final Set<String> CONFIGS = Set.of(OCI_CONFIG, DOCKER_CONFIG);

    public enum Compression { NONE, GZIP, ZSTD }

    // RFC 6838 shape: type/subtype with an optional +suffix; keeps JSON junk out of descriptors and messages.
    private static final Pattern PLAUSIBLE =
            Pattern.compile("[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}");

    private MediaTypes() {}

    static boolean isPlausible(String mediaType) {
        return PLAUSIBLE.matcher(mediaType).matches();
    }

    /** The compression of a layer media type, or null when it is not a layer type hupd knows. */
    public static Compression layerCompression(String mediaType) {
        return switch (mediaType) {
            case OCI_LAYER_TAR, "application/vnd.oci.image.layer.nondistributable.v1.tar" -> Compression.NONE;
            case OCI_LAYER_GZIP, DOCKER_LAYER_GZIP, "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" -> Compression.GZIP;
            case OCI_LAYER_ZSTD, "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" -> Compression.ZSTD;
            default -> null;
        };
    }

    /** Null when hupd can apply layers of this type, else why not (one phrase). */
    public static String whyLayerUnsupported(String mediaType) {
        Compression c = layerCompression(mediaType);
        if (c == null) {
            return "unsupported layer media type '" + Text.quote(mediaType) + "'";
        }
        if (c == Compression.ZSTD) {
            return "zstd-compressed layers are not supported (media type " + mediaType
                    + "); rebuild the image with gzip layers";
        }
        return null;
    }
}
