package io.hupd.ports;

import io.hupd.image.delta.DeltaSource;
import io.hupd.image.registry.RegistryClient;
import io.hupd.image.registry.RegistryOptions;
import java.util.List;

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
}
