package io.hupd.image.rootfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The entry limit fits the heap hupd runs with: a layer of exactly as many entries as the limit allows is surveyed,
 * and one more entry is refused with the limit's words, both in a JVM with the launcher's 64 MiB heap and within a
 * time a device would not mistake for a hang. (Above the heap's reach the survey used to collect garbage for
 * minutes and then die of OutOfMemoryError.)
 */
class EntryLimitIT {
    @TempDir
    Path tmp;

    /** Empty files in 2,000 folders, with the folders' own entries, until the layer has {@code entries}. */
    private Path layer(long entries) throws IOException {
        Path file = tmp.resolve("layer-" + entries + ".tar.gz");
        try (OutputStream raw = Files.newOutputStream(file);
                GZIPOutputStream gz = new GZIPOutputStream(raw, 1 << 16) {
                    {
                        def.setLevel(Deflater.BEST_SPEED);
                    }
                };
                TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            long n = 0;
            for (String d : List.of("usr/", "usr/share/")) {
                tar.putArchiveEntry(new TarArchiveEntry(d));
                tar.closeArchiveEntry();
                n++;
            }
            for (long i = 0; n < entries; i++) {
                String folder = "usr/share/d" + (i % 2000) + "/";
                if (i < 2000) {
                    tar.putArchiveEntry(new TarArchiveEntry(folder));
                    tar.closeArchiveEntry();
                    if (++n == entries) {
                        break;
                    }
                }
                TarArchiveEntry f = new TarArchiveEntry(folder + "file-number-" + i + ".txt");
                f.setSize(0);
                tar.putArchiveEntry(f);
                tar.closeArchiveEntry();
                n++;
            }
            tar.finish();
        }
        return file;
    }

    private String surveyInLauncherHeap(Path layer) throws Exception {
        Path out = tmp.resolve(layer.getFileName() + ".out");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                SurveyInLauncherHeap.class.getName(), layer.toString())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "the survey did not end within 90 s: " + Files.readString(out));
        assertEquals(0, p.exitValue(), Files.readString(out));
        return Files.readString(out).strip();
    }

    @Test
    void aLayerAtTheLimitIsSurveyedAndOneEntryMoreIsRefused() throws Exception {
        long limit = FlattenLimits.DEFAULT.maxEntries();
        assertEquals("surveyed " + limit + " entries", surveyInLauncherHeap(layer(limit)));
        String refused = surveyInLauncherHeap(layer(limit + 1));
        assertTrue(refused.startsWith("refused: ") && refused.contains("more than " + limit + " entries"), refused);
    }
}
