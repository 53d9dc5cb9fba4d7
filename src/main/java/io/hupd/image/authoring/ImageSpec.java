package io.hupd.image.authoring;

import java.util.Objects;
import java.util.Optional;

/** What {@code hupd image create} stamps into the image it packs. Values are checked by {@link OciLayoutWriter}. */
public record ImageSpec(String version, String deviceType, String architecture, Optional<String> supervisorVersion,
        Optional<Long> securityVersion) {
    /** An image with no security version (the anti-rollback floor counts it as 0). */
    public ImageSpec(String version, String deviceType, String architecture, Optional<String> supervisorVersion) {
        this(version, deviceType, architecture, supervisorVersion, Optional.empty());
    }

    public ImageSpec {
        Objects.requireNonNull(securityVersion, "securityVersion");
        if (securityVersion.isPresent() && securityVersion.get() < 0) {
            throw new io.hupd.ports.UserInputException("bad security version " + securityVersion.get()
                    + " (a whole number, 0 or more)");
        }
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(deviceType, "deviceType");
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(supervisorVersion, "supervisorVersion");
    }
}
