package io.hupd.adapters.hw;

import io.hupd.health.HealthCheck;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Extra health checks on hardware, in greenboot's layout: every file in {@code FOLDER/required.d/} is a required
 * check and every file in {@code FOLDER/wanted.d/} a wanted one, run in name order. A check passes when its
 * program exits 0; its output (stdout and stderr together) is kept with the verdict.
 *
 * <p>The time limit is the {@link io.hupd.health.HealthCheckRunner}'s: when it gives up on a check it interrupts
 * the check's thread, and the check then kills its program and everything the program started, so a hung check
 * leaves no process behind to hold the device up. A file that is not executable fails instead of being skipped,
 * so that a lost execute bit cannot silently switch a required check off. Hidden files are not checks.
 */
public final class HealthCheckFolder {
    /** Kept of a check's output; the verdict trims further, this only bounds memory. */
    static final int MAX_OUTPUT = 16 * 1024;

    private HealthCheckFolder() {}

    /** The checks in {@code folder}; none when it or its sub-folders do not exist. */
    public static List<HealthCheck> checks(Path folder) throws IOException {
        List<HealthCheck> out = new ArrayList<>();
        for (HealthCheck.Kind kind : HealthCheck.Kind.values()) {
            String sub = kind == HealthCheck.Kind.REQUIRED ? "required.d" : "wanted.d";
            Path dir = folder.resolve(sub);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            List<Path> files;
            try (Stream<Path> s = Files.list(dir)) {
                files = s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
            }
            for (Path p : files) {
                out.add(new Program(sub + "/" + p.getFileName(), kind, p));
            }
        }
        return List.copyOf(out);
    }

    private record Program(String name, Kind kind, Path file) implements HealthCheck {
        @Override
        public Result run() throws IOException, InterruptedException {
            if (!Files.isRegularFile(file)) {
                return Result.fail(file + " is not a regular file");
            }
            if (!Files.isExecutable(file)) {
                return Result.fail(file + " is not executable (chmod +x it, or remove it from the folder)");
            }
            ProcessBuilder pb = new ProcessBuilder(file.toString()).directory(file.getParent().toFile())
                    .redirectErrorStream(true);
            Process p = pb.start();
            p.getOutputStream().close(); // a check that reads its input gets end-of-file, not a wait
            Bounded output = new Bounded(p.getInputStream());
            Thread reader = new Thread(output, "health-output-" + name);
            reader.setDaemon(true);
            reader.start();
            int code;
            try {
                code = p.waitFor();
            } catch (InterruptedException e) {
                kill(p);
                throw e;
            }
            // A child the check left running may hold the pipe open; its output is not waited for.
            reader.join(1000);
            String text = output.text();
            if (code == 0) {
                return Result.pass(text.isBlank() ? name + " passed" : text);
            }
            return Result.fail((text.isBlank() ? "" : text.strip() + "\n") + name + " exited with code " + code);
        }

        /** Children first, so none of them is re-parented and missed. */
        private static void kill(Process p) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    /** Drains a stream, keeping the first {@link #MAX_OUTPUT} bytes. */
    private static final class Bounded implements Runnable {
        private final InputStream in;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();

        Bounded(InputStream in) {
            this.in = in;
        }

        @Override
        public void run() {
            byte[] buf = new byte[4096];
            try (in) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    synchronized (kept) {
                        kept.write(buf, 0, Math.max(0, Math.min(n, MAX_OUTPUT - kept.size())));
                    }
                }
            } catch (IOException e) {
                // the program was killed or closed its output: what was read is what there is
            }
        }

        String text() {
            synchronized (kept) {
                return kept.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
