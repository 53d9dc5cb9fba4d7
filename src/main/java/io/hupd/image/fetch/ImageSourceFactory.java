package io.hupd.image.fetch;

import io.hupd.image.registry.RegistryClient;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.image.registry.RegistrySettings;
import java.util.List;
import java.util.Optional;

/** Turns a reference ({@code oci:PATH:TAG}, {@code docker://…}) into a source; bad references throw UserInputException. */
public interface ImageSourceFactory {
    ImageSource open(String reference);

    /**
     * A delta source: the delta at {@code reference}, which must make exactly the image the first answering
     * {@code targets} reference resolves to. This default uses default registry settings; the factory of a
     * hupd process ({@code ImageSources.factory}) shares its registry clients and options.
     */
    default ImageSource openDelta(String reference, List<String> targets) {
        return new DeltaSource(reference, targets, this, r -> new RegistryClient(r, RegistryOptions.DEFAULT),
                RegistryOptions.DEFAULT);
    }

    /**
     * The registry settings this process's command line gave ({@code hupd update}); empty in a process that was
     * given none (a power-on, {@code hupd abort}), which then uses what the update recorded.
     */
    default Optional<RegistrySettings> givenSettings() {
        return Optional.empty();
    }

    /**
     * Sources that reach registries as {@code settings} say: those an update recorded when it began.
     *
     * @throws UnsupportedOperationException from a factory that cannot apply settings, rather than ignore them
     * @throws UserInputException when the settings' credentials file is missing or malformed
     */
    default ImageSourceFactory with(RegistrySettings settings) {
        if (settings.equals(RegistrySettings.NONE)) {
            return this;
        }
        throw new UnsupportedOperationException("this image source factory cannot use registry settings ("
                + settings + ")");
    }
}
