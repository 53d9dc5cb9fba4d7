package io.hupd.steps;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.fs.AtomicFiles;
import io.hupd.image.oci.ResolvedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The image an update resolved, kept in its work folder: later steps (and a resumed run) use exactly these
 * digests, so a tag moved mid-update cannot mix two images.
 */
final class PinnedImage {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private PinnedImage() {}

    static Path file(Path workDir) {
        return workDir.resolve("image.json");
    }

    static void save(Path workDir, ResolvedImage image) throws IOException {
        AtomicFiles.write(file(workDir), JSON.writeValueAsBytes(image));
    }

    static ResolvedImage load(Path workDir) throws IOException {
        Path f = file(workDir);
        if (!Files.exists(f)) {
            throw new IOException("the fetched image's record is missing from " + workDir + ": fetch again");
        }
        return JSON.readValue(io.hupd.fs.BoundedFiles.read(f, io.hupd.fs.BoundedFiles.DOCUMENT), ResolvedImage.class);
    }
}
