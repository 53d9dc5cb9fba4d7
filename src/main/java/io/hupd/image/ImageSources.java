package io.hupd.image;

import io.hupd.image.delta.DeltaSource;
import io.hupd.image.registry.RegistryClient;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.ports.ImageSource;
import io.hupd.ports.ImageSourceFactory;
import io.hupd.ports.UserInputException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/** Turns an image reference as the operator wrote it into the source that can read it. */
public final class ImageSources {
    private ImageSources() {}

    /**
     * A source with the default registry settings and no memory of earlier resolutions.
     *
     * @throws UserInputException for a malformed reference
     */
    public static ImageSource open(String reference) {
        return factory(RegistryOptions.DEFAULT).open(reference);
    }

    /**
     * The sources of one hupd process. It shares one client per registry (so a bearer token is fetched once)
     * and remembers what each tag resolved to, so the pre-flight check and the fetch see the same image.
     */
    public static ImageSourceFactory factory(RegistryOptions options) {
        Map<String, RegistryClient> clients = new ConcurrentHashMap<>();
        Map<String, ResolvedImage> pins = new ConcurrentHashMap<>();
        Function<String, RegistryClient> client = registry -> clients.computeIfAbsent(
                registry.toLowerCase(Locale.ROOT), r -> new RegistryClient(registry, options));
        return new ImageSourceFactory() {
            @Override
            public ImageSource open(String reference) {
                ImageReference ref = ImageReference.parse(reference);
                if (ref.isOciLayout()) {
                    return new OciLayoutSource(ref, options.architecture());
                }
                return new RegistrySource(ref, client.apply(ref.registry()), options, pins);
            }

            @Override
            public ImageSource openDelta(String reference, List<String> targets) {
                return new DeltaSource(reference, targets, this, client, options);
            }
        };
    }
}
