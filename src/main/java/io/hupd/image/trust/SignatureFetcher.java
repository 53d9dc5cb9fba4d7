package io.hupd.image.trust;

import java.io.IOException;

/** Where an image's signatures are read from: its registry repository, or its OCI layout. */
public interface SignatureFetcher {
    /** The document tagged {@code tag} next to the image, or null when there is none. */
    byte[] manifest(String tag) throws IOException;

    /** A blob of the image's repository or layout, at most {@code size} bytes (the caller checks its digest). */
    byte[] blob(String digest, long size) throws IOException;
}
