package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.image.fetch.ImageSourceFactory;
import io.hupd.image.registry.RegistrySettings;
import io.hupd.machine.UpdateContext;
import java.util.ArrayList;
import java.util.Optional;

/**
 * The image sources of one update. It reaches registries the way it was started ({@link UpdateContext#registries},
 * recorded from the first command line that ran it), whatever this process was given: a power-on has no
 * registry options at all, and a {@code hupd update} run again to resume it may give fewer or others.
 */
public final class UpdateImages {
    private UpdateImages() {}

    /** This process's registry options, as an update records them; null when it was given none. */
    public static UpdateContext.Registries given(Device device) {
        Optional<RegistrySettings> given = device.images().givenSettings();
        return given.map(g -> new UpdateContext.Registries(new ArrayList<>(g.insecureRegistries()),
                g.credentialsFile(), g.lowSpeedBytes(), g.lowSpeedSeconds())).orElse(null);
    }

    /**
     * The sources as the update was started. An update that has no registry options recorded (one an older hupd
     * began) records this process's, at once.
     *
     * @throws io.hupd.ports.UserInputException when the recorded credentials file is gone or malformed (the
     *     sources fail with that reason)
     */
    static ImageSourceFactory of(Device device, UpdateContext ctx, StepLog log) throws java.io.IOException {
        UpdateContext.Registries r = ctx.registries();
        if (r == null) {
            r = given(device);
            if (r != null) {
                UpdateContext.Registries recordedNow = r;
                log.record(c -> c.registries(recordedNow));
            }
        }
        ImageSourceFactory images = device.images();
        if (r == null) {
            return images;
        }
        RegistrySettings recorded = new RegistrySettings(r.insecure(), r.credentialsFile(), r.lowSpeedBytes(),
                r.lowSpeedSeconds());
        Optional<RegistrySettings> given = images.givenSettings();
        if (given.isPresent() && !given.get().equals(recorded)) {
            log.warn("this update was started with other registry options; it keeps them (" + recorded
                    + "): abort it (hupd abort) to fetch with these (" + given.get() + ")");
        }
        return images.with(recorded);
    }
}
