package io.hupd.image.registry;

import io.hupd.image.oci.ImageSourceException;

/** A registry did not give what was asked; {@link #retryable()} when trying again may help (network, 5xx, 429). */
public class RegistryException extends ImageSourceException {
    private final boolean retryable;

    public RegistryException(String message, boolean retryable) {
        super(message);
        this.retryable = retryable;
    }

    public RegistryException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
    }

    public boolean retryable() {
        return retryable;
    }
}
