package io.hupd.web;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** {@code hupd serve} in a process of its own, as an operator runs it next to an update. */
final class ServeProcess implements AutoCloseable {
    final Process process;
    final String url;
    final String base;
    final String token;

    private ServeProcess(Process process, String url) {
        this.process = process;
        this.url = url;
        this.base = url.substring(0, url.indexOf("/?token="));
        this.token = url.substring(url.indexOf("?token=") + 7);
    }

    static ServeProcess start(Path deviceDir) throws Exception {
        // Surefire may hand the JVM a one-entry manifest classpath; this property has the real one.
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", cp, "io.hupd.cli.Main", "serve", "--device",
                deviceDir.toString(), "--port", "0"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> {
            try {
                StringBuilder seen = new StringBuilder();
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.startsWith("hupd serve: http")) {
                        return line.substring("hupd serve: ".length());
                    }
                    seen.append(line).append('\n');
                }
                throw new IllegalStateException("hupd serve ended without a URL:\n" + seen);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        String url;
        try {
            url = first.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            throw e;
        }
        // Keep draining its output so that it never blocks on a full pipe.
        Thread drain = new Thread(() -> {
            try {
                while (r.readLine() != null) {
                    // discarded
                }
            } catch (IOException ignored) {
                // process gone
            }
        });
        drain.setDaemon(true);
        drain.start();
        return new ServeProcess(p, url);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
