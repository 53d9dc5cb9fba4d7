package io.hupd.image.delta;

import io.hupd.image.oci.ImageReference;
import io.hupd.ports.UserInputException;
import java.util.List;
import java.util.Optional;

/**
 * Where a device looks for a delta when the operator gives none: next to the target image, in the same
 * repository (or layout), under the target's tag plus {@code -delta-from-} and the running version. Any plain
 * OCI registry serves that; a missing tag just means "no delta". Characters a tag may not hold ({@code +} of
 * {@code 2.114.0+rev1}) become {@code _}, as Docker tags do.
 *
 * <p>{@code docker://reg/balena/hostos:2.114.0} running 2.113.4 →
 * {@code docker://reg/balena/hostos:2.114.0-delta-from-2.113.4}
 */
public final class DeltaNaming {
    private DeltaNaming() {}

    /** The delta tag for a target tag; empty when the result would not be a valid tag (over 128 characters). */
    public static Optional<String> tag(String targetTag, String runningVersion) {
        String tag = targetTag + "-delta-from-" + runningVersion.replaceAll("[^A-Za-z0-9._-]", "_");
        return tag.length() <= 128 ? Optional.of(tag) : Optional.empty();
    }

    /** The conventional delta next to the first image; empty for a digest reference or when there is none. */
    public static Optional<String> next(List<String> images, String runningVersion) {
        if (images.isEmpty() || runningVersion == null) {
            return Optional.empty();
        }
        ImageReference ref;
        try {
            ref = ImageReference.parse(images.get(0));
        } catch (UserInputException e) {
            return Optional.empty();
        }
        if (ref.digest().isPresent()) {
            return Optional.empty();
        }
        return tag(ref.tag(), runningVersion).map(t -> ref.isOciLayout()
                ? "oci:" + ref.layoutPath() + ":" + t
                : "docker://" + ref.registry() + "/" + ref.repository() + ":" + t);
    }
}
