package io.hupd.ports;

import io.hupd.image.BlobStore;
import io.hupd.image.ResolvedImage;
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
}
