package io.hupd.image.delta;

import io.hupd.image.oci.ImageSourceException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** A layer blob as the tar stream a patch is made from (delta create) or applied to (a delta source). */
public final class DeltaLayers {
    private DeltaLayers() {}

    /** Opens the blob uncompressed, by its media type; throws for a compression deltas do not handle. */
    public static InputStream open(Path blob, String mediaType, String what) throws IOException {
        InputStream raw = new java.io.BufferedInputStream(Files.newInputStream(blob), 1 << 16);
        if (mediaType.endsWith("+gzip") || mediaType.endsWith(".tar.gzip")) {
            return new GZIPInputStream(raw, 1 << 16);
        }
        if (mediaType.endsWith(".tar")) {
            return raw;
        }
        raw.close();
        throw new ImageSourceException(what + ": layer media type " + mediaType + " is not supported for deltas");
    }
}
