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

    /** Records this process's registry options in an update that has none recorded yet. */
    public static void record(Device device, UpdateContext ctx) {
        Optional<RegistrySettings> given = device.images().givenSettings();
        if (ctx.registries == null && given.isPresent()) {
            UpdateContext.Registries r = new UpdateContext.Registries();
            r.insecure = new ArrayList<>(given.get().insecureRegistries());
            r.credentialsFile = given.get().credentialsFile();
            r.lowSpeedBytes = given.get().lowSpeedBytes();
            r.lowSpeedSeconds = given.get().lowSpeedSeconds();
            ctx.registries = r;
        }
    }

    /**
     * @throws io.hupd.ports.UserInputException when the recorded credentials file is gone or malformed (the
     *     sources fail with that reason)
     */
    static ImageSourceFactory of(Device device, UpdateContext ctx, StepLog log) {
        record(device, ctx);
        ImageSourceFactory images = device.images();
        if (ctx.registries == null) {
            return images;
        }
        RegistrySettings recorded = new RegistrySettings(ctx.registries.insecure, ctx.registries.credentialsFile,
                ctx.registries.lowSpeedBytes, ctx.registries.lowSpeedSeconds);
        Optional<RegistrySettings> given = images.givenSettings();
        if (given.isPresent() && !given.get().equals(recorded)) {
            log.warn("this update was started with other registry options; it keeps them (" + recorded
                    + "): abort it (hupd abort) to fetch with these (" + given.get() + ")");
        }
        return images.with(recorded);
    }
}
