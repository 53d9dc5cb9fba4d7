package io.hupd.image.oci;

import java.io.IOException;

/** A source that cannot give the image: not found, unreachable, digest or size mismatch, garbage. */
public class ImageSourceException extends IOException {
    public ImageSourceException(String message) {
        super(message);
    }

    public ImageSourceException(String message, Throwable cause) {
        super(message, cause);
    }
}
