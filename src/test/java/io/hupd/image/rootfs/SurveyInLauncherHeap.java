package io.hupd.image.rootfs;

import io.hupd.image.oci.MediaTypes;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Surveys one gzip layer with the default limits and prints the outcome: run by {@link EntryLimitIT} in a JVM of
 * its own with the launcher's heap, so that what is measured is whether the limits fit that heap.
 */
final class SurveyInLauncherHeap {
    private SurveyInLauncherHeap() {}

    public static void main(String[] args) throws Exception {
        Path layer = Path.of(args[0]);
        try {
            LayerFlattener.Survey s = LayerFlattener.survey(() -> Files.newInputStream(layer),
                    MediaTypes.OCI_LAYER_GZIP, FlattenLimits.DEFAULT, p -> p.equals("etc/os-release"), 1024);
            System.out.println("surveyed " + s.stats().entries() + " entries");
        } catch (io.hupd.ports.UserInputException e) {
            System.out.println("refused: " + e.getMessage());
        }
    }
}
