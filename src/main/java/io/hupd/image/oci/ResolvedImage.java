package io.hupd.image.oci;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An image pinned to one manifest digest: from here on only these descriptors are fetched, whatever a tag
 * points to later.
 */
public record ResolvedImage(String reference, String manifestDigest, Descriptor config, List<Descriptor> layers,
        String architecture, String os, Map<String, String> labels) {
    public ResolvedImage {
        Objects.requireNonNull(reference, "reference");
        Digests.requireSha256(manifestDigest);
        Objects.requireNonNull(config, "config");
        layers = List.copyOf(layers);
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(os, "os");
        labels = Map.copyOf(labels);
    }

    /** The blobs that make up the image: config first, then the layers in order. */
    public List<Descriptor> blobs() {
        var all = new java.util.ArrayList<Descriptor>(layers.size() + 1);
        all.add(config);
        all.addAll(layers);
        return List.copyOf(all);
    }

    /** The sizes the manifest declares, summed; Long.MAX_VALUE when they add up to more (a hostile manifest). */
    public long totalBytes() {
        long sum = config.size();
        for (Descriptor d : layers) {
            try {
                sum = Math.addExact(sum, d.size());
            } catch (ArithmeticException e) {
                return Long.MAX_VALUE;
            }
        }
        return sum;
    }
}
