package io.hupd.image.authoring;

import static org.junit.jupiter.api.Assertions.fail;
import io.hupd.fs.Commands;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/** Real tools the tests check against. On a laptop without them the test is skipped; in CI it must run. */
final class Tools {
    private Tools() {}

    static void require(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return;
            }
        }
        if (System.getenv("CI") != null) {
            fail(tool + " is not installed, and CI is set: install it (apt-get install -y " + tool + ")");
        }
        Assumptions.abort(tool + " is not installed (apt-get install -y " + tool + ")");
    }

    static Commands.Result run(String... command) throws IOException {
        Commands.Result r = Commands.run(List.of(command), Duration.ofSeconds(60));
        if (!r.ok()) {
            fail(String.join(" ", command) + " failed: " + r.stderr());
        }
        return r;
    }
}
