package io.hupd.image.trust;

import io.hupd.image.oci.ImageSourceException;

/** A signature that does not let the image be installed; the message is the one-line reason. */
public final class SignatureException extends ImageSourceException {
    public SignatureException(String message) {
        super(message);
    }
}
