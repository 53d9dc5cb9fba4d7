package io.hupd.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./hupd ARGS} as a user runs it: the launcher at its default JVM flags (HUPD_JVM_FLAGS is removed from
 * the environment, so the 64 MiB heap applies), its output kept in files next to {@code logs}.
 */
public final class Launcher {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SCRIPT = Path.of(System.getProperty("hupd.repo", ".")).resolve("hupd")
            .toAbsolutePath();

    private final Path logs;
    private int runs;

    public Launcher(Path logs) {
        this.logs = logs;
    }

    /** What one command printed and returned; {@code err} decoded as UTF-8. */
    public record Run(String command, int code, String out, String err) {
        public JsonNode json() throws IOException {
            return JSON.readTree(out.substring(out.indexOf('{')));
        }

        /** Exit {@code code} with stderr one line, {@code hupd: ...}, no stack trace or JVM error; returns it. */
        public String oneLineError(int expected) {
            assertEquals(expected, code, command + ": exit code; stderr: " + err);
            String e = err.strip();
            assertEquals(1, e.lines().count(), command + ": one line on stderr: " + err);
            assertTrue(e.startsWith("hupd: "), command + ": " + err);
            assertFalse(e.contains("\tat ") || e.contains("Exception") || e.contains("OutOfMemoryError")
                    || e.contains("internal error"), command + ": " + err);
            return e;
        }

        public Run ok() {
            assertEquals(0, code, command + " exited " + code + ": " + err + "\n" + out);
            assertFalse(err.contains("\tat ") || err.contains("OutOfMemoryError"), command + ": " + err);
            return this;
        }
    }

    public Run run(String... args) throws Exception {
        return run(Map.of(), args);
    }

    public Run run(Map<String, String> env, String... args) throws Exception {
        Process p = start(env, args);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "hupd " + String.join(" ", args) + " hung");
        int n = runs;
        return new Run("hupd " + String.join(" ", args), p.exitValue(), Files.readString(out(n)),
                new String(Files.readAllBytes(err(n)), StandardCharsets.UTF_8));
    }

    /** A command that keeps running (serve, daemon): its output goes to the returned files as it comes. */
    public Process start(Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("bash", SCRIPT.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("HUPD_JVM_FLAGS");
        pb.environment().putAll(env);
        int n = ++runs;
        return pb.redirectOutput(out(n).toFile()).redirectError(err(n).toFile()).start();
    }

    public Path out(int run) {
        return logs.resolve("run-" + run + ".out");
    }

    public Path err(int run) {
        return logs.resolve("run-" + run + ".err");
    }

    /** The number of the last command started (for {@link #out} and {@link #err} of a running one). */
    public int last() {
        return runs;
    }
}
