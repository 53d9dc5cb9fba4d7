package io.hupd.image.fetch;

import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.registry.RegistryClient;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.image.registry.RegistrySettings;
import io.hupd.image.registry.RegistryTls;
import io.hupd.image.trust.TrustStore;
import io.hupd.ports.UserInputException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
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
        return new Sources(options, null, new ConcurrentHashMap<>(), TrustStore.NONE);
    }

    /**
     * As {@link #factory(RegistryOptions)}, for {@code hupd update}: {@code given} are its registry options, which
     * an update it starts records.
     *
     * @throws UserInputException when the credentials file is missing or malformed
     */
    public static ImageSourceFactory factory(RegistryOptions base, RegistrySettings given) {
        return new Sources(base, given, new ConcurrentHashMap<>(), TrustStore.NONE);
    }

    /**
     * As {@link #factory(RegistryOptions, RegistrySettings)} ({@code given} may be null), with a device's trust
     * store: every image's signature is checked against it as it is resolved, and registries it has a CA
     * bundle for are reached over TLS with that bundle only.
     */
    public static ImageSourceFactory factory(RegistryOptions base, RegistrySettings given, TrustStore trust) {
        return new Sources(base, given, new ConcurrentHashMap<>(), trust);
    }

    private static final class Sources implements ImageSourceFactory {
        private final RegistryOptions base;
        private final RegistrySettings given;
        private final RegistryOptions options;
        private final Map<String, ResolvedImage> pins;
        private final Map<String, RegistryClient> clients = new ConcurrentHashMap<>();
        private final Function<String, RegistryClient> client;
        private final Map<RegistrySettings, Sources> withSettings = new ConcurrentHashMap<>();
        private final TrustStore trust;

        Sources(RegistryOptions base, RegistrySettings given, Map<String, ResolvedImage> pins, TrustStore trust) {
            this.trust = trust;
            this.base = base;
            this.given = given;
            this.options = given == null ? base : given.applyTo(base);
            this.pins = pins;
            this.client = registry -> clients.computeIfAbsent(registry.toLowerCase(Locale.ROOT),
                    r -> new RegistryClient(registry, options, RegistryTls.of(trust.registryCa())));
        }

        @Override
        public ImageSource open(String reference) {
            ImageReference ref = ImageReference.parse(reference);
            if (ref.isOciLayout()) {
                return new OciLayoutSource(ref, options.architecture(), trust);
            }
            return new RegistrySource(ref, client.apply(ref.registry()), options, pins, trust);
        }

        @Override
        public ImageSource openDelta(String reference, List<String> targets) {
            return new DeltaSource(reference, targets, this, client, options);
        }

        @Override
        public Optional<RegistrySettings> givenSettings() {
            return Optional.ofNullable(given);
        }

        /** One factory per settings, sharing this one's pins: a tag is still read once per process. */
        @Override
        public ImageSourceFactory with(RegistrySettings settings) {
            if (settings.equals(given)) {
                return this;
            }
            return withSettings.computeIfAbsent(settings, s -> new Sources(base, s, pins, trust));
        }
    }
}
