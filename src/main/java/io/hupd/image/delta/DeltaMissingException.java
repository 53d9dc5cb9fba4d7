package io.hupd.image.delta;

import io.hupd.image.oci.ImageSourceException;

/** There is no delta at the reference (no such tag): the usual case for a delta found by naming convention. */
public final class DeltaMissingException extends ImageSourceException {
    public DeltaMissingException(String message) {
        super(message);
    }
}
