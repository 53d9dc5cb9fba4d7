package io.hupd.image;

import java.util.Objects;
import java.util.Optional;

/** What {@code hupd image create} stamps into the image it packs. Values are checked by {@link OciLayoutWriter}. */
public record ImageSpec(String version, String deviceType, String architecture, Optional<String> supervisorVersion) {
    public ImageSpec {
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(deviceType, "deviceType");
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(supervisorVersion, "supervisorVersion");
    }
}
