package io.hupd.fs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs the real tools (e2fsprogs, grub-editenv, …) with a time limit; output is captured, never inherited. */
public final class Commands {
    private Commands() {}

    public record Result(int exitCode, byte[] stdout, String stderr) {
        public String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        public boolean ok() {
            return exitCode == 0;
        }

        /** The first non-empty line of stderr, for one-line error messages. */
        public String firstErrorLine() {
            for (String line : stderr.split("\n")) {
                if (!line.isBlank()) {
                    return line.strip();
                }
            }
            return "exit code " + exitCode;
        }
    }

    public static Result run(List<String> command, Duration timeout) throws IOException {
        return run(command, timeout, null, Map.of(), null);
    }

    public static Result run(List<String> command, Duration timeout, Path workDir, Map<String, String> env,
            byte[] stdin) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command);
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException(command.get(0) + " could not be started (is it installed?): " + e.getMessage(), e);
        }
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
        try (var in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin);
            }
        } catch (IOException ignored) {
            // the tool may exit before reading its input; its exit code tells what happened
        }
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                throw new IOException(command.get(0) + " did not finish within " + timeout.toSeconds() + " s");
            }
            return new Result(p.exitValue(), out.join(),
                    new String(err.join(), StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(command.get(0) + " was interrupted", e);
        }
    }

    /** Runs a command that must succeed; the exception message is one line naming the tool and its complaint. */
    public static Result check(List<String> command, Duration timeout) throws IOException {
        Result r = run(command, timeout);
        if (!r.ok()) {
            throw new IOException(command.get(0) + " failed: " + r.firstErrorLine());
        }
        return r;
    }

    private static byte[] drain(InputStream in) {
        try (in) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            in.transferTo(buf);
            return buf.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
