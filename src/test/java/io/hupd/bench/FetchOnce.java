package io.hupd.bench;

import io.hupd.image.cache.BlobStore;
import io.hupd.image.fetch.ImageSource;
import io.hupd.image.fetch.ImageSources;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.ports.Progress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What hupd's FETCHING state does, and nothing else: resolve a reference and stream every blob, verified, into an
 * empty blob cache. bench/run.sh runs it as its own JVM (with the launcher's flags) so that it pays the same
 * start-up as {@code skopeo copy} does, and the two are compared like for like. Not a test: it has no assertions
 * and is only ever started by the benchmark script.
 */
public final class FetchOnce {
    private FetchOnce() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: FetchOnce REFERENCE EMPTY_CACHE_DIR");
            System.exit(2);
        }
        Path cache = Path.of(args[1]);
        Files.createDirectories(cache);
        ImageSource source = ImageSources.factory(RegistryOptions.DEFAULT).open(args[0]);
        ResolvedImage image = source.resolve();
        long bytes = source.fetch(image, new BlobStore(cache), Progress.NONE);
        System.out.println(image.manifestDigest() + " " + bytes);
    }
}
