package io.hupd.adapters.bootloader;

import static org.junit.jupiter.api.Assertions.fail;

import io.hupd.fs.Commands;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

final class TestFiles {
    private TestFiles() {}

    /** Skips only on a developer machine without the tool; in CI a missing tool is a failure. */
    static void requireTool(String tool) {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (Files.isExecutable(Path.of(dir, tool))) {
                    return;
                }
            }
        }
        if (System.getenv("CI") != null) {
            fail(tool + " is not installed; CI must run the round trips with the real tool");
        }
        Assumptions.abort(tool + " is not installed");
    }

    static Commands.Result run(Path workDir, String... command) throws IOException {
        return Commands.run(List.of(command), Duration.ofSeconds(30), workDir, Map.of(), null);
    }

    static void write(Path file, String content) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, content.getBytes(StandardCharsets.ISO_8859_1));
    }

    static String text(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
    }

    /** Every file under dir with its exact content, to prove that nothing changed. */
    static Map<String, String> snapshot(Path dir) {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p)) {
                    out.put(dir.relativize(p).toString(), Base64.getEncoder().encodeToString(Files.readAllBytes(p)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
