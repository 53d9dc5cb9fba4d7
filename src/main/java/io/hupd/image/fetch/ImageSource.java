package io.hupd.image.fetch;

import io.hupd.image.cache.BlobStore;
import io.hupd.image.oci.ImageSourceException;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.ports.Progress;
import java.io.IOException;

/**
 * One place an OS image can come from (an OCI layout on disk, a registry, a delta). The update tries its sources
 * in order; a source that fails throws {@link ImageSourceException} with a one-line reason and the next is tried.
 */
public interface ImageSource {
    /** The reference as the operator wrote it, for logs and {@code hupd status}. */
    String reference();

    /** Reads the manifest (pinned to its digest from then on) and the image config. */
    ResolvedImage resolve() throws IOException;

    /**
     * Makes every blob of the image present in the store, each verified against its digest and size.
     *
     * @return the bytes that came over the wire (0 when everything was already in the store)
     */
    long fetch(ResolvedImage image, BlobStore store, Progress progress) throws IOException;

    /**
     * Opens {@code length} bytes of one of the image's blobs from {@code offset} (an HTTP Range request on a
     * registry). The bytes are not checked here: the caller checks each chunk against its index.
     *
     * @throws ImageSourceException when this kind of source cannot read part of a blob
     */
    default java.io.InputStream openRange(io.hupd.image.oci.Descriptor blob, long offset, long length)
            throws IOException {
        throw new ImageSourceException(reference() + ": cannot read part of a blob");
    }

    /** Lets go of connections once the caller is done with ranges (nothing for most sources). */
    default void release() {}
}
