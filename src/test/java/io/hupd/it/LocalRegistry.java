package io.hupd.it;

import static org.junit.jupiter.api.Assertions.fail;

import io.hupd.fs.Commands;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * A real registry (Debian's {@code docker-registry}, distribution 2.8) on 127.0.0.1 with a port the kernel
 * picked, its storage in a folder of the test, and images pushed into it by skopeo.
 */
final class LocalRegistry implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:([0-9]+)");
    private final Path dir;
    private final Process process;
    final int port;

    private LocalRegistry(Path dir, Process process, int port) {
        this.dir = dir;
        this.process = process;
        this.port = port;
    }

    /** Skips when a tool is missing on a laptop; fails in CI, where .ci/run installs them. */
    static void requireTools() {
        for (String tool : List.of("docker-registry", "skopeo")) {
            boolean found = false;
            for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
                found |= !d.isEmpty() && Files.isExecutable(Path.of(d, tool));
            }
            if (!found) {
                String pkg = tool.equals("docker-registry") ? "docker-registry" : "skopeo";
                if (System.getenv("CI") != null) {
                    fail(tool + " is not installed, and CI is set: install it (apt-get install -y " + pkg + ")");
                }
                Assumptions.abort(tool + " is not installed (apt-get install -y " + pkg + ")");
            }
        }
    }

    static LocalRegistry start(Path dir) throws IOException, InterruptedException {
        return start(dir, null, null);
    }

    /**
     * A registry serving TLS with {@code certificate} and {@code key} (PEM) when they are given; then it is not
     * polled over plain HTTP before returning (clients retry a refused connection).
     */
    static LocalRegistry start(Path dir, Path certificate, Path key) throws IOException, InterruptedException {
        requireTools();
        Files.createDirectories(dir.resolve("storage"));
        Path config = dir.resolve("registry.yml");
        Files.writeString(config, String.join("\n",
                "version: 0.1",
                "log: {level: info, accesslog: {disabled: true}}",
                "storage:",
                "  filesystem: {rootdirectory: " + dir.resolve("storage").toAbsolutePath() + "}",
                "  delete: {enabled: true}",
                "http:",
                "  addr: 127.0.0.1:0",
                "  secret: hupd-test-secret",
                certificate == null ? "" : "  tls: {certificate: " + certificate.toAbsolutePath() + ", key: "
                        + key.toAbsolutePath() + "}",
                ""));
        Path log = dir.resolve("registry.log");
        Process p = new ProcessBuilder("docker-registry", "serve", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = LISTENING.matcher(Files.exists(log) ? Files.readString(log) : "");
            if (m.find()) {
                LocalRegistry r = new LocalRegistry(dir, p, Integer.parseInt(m.group(1)));
                if (certificate == null) {
                    r.awaitReady();
                }
                return r;
            }
            if (!p.isAlive()) {
                fail("docker-registry exited: " + Files.readString(log));
            }
            Thread.sleep(20);
        }
        p.destroyForcibly();
        throw new AssertionError("docker-registry did not say where it listens within 15 s: " + Files.readString(log));
    }

    private void awaitReady() throws IOException, InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < 250; i++) {
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://" + address() + "/v2/"))
                        .build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(20);
        }
        fail("registry on " + address() + " did not answer /v2/");
    }

    String address() {
        return "127.0.0.1:" + port;
    }

    /** {@code docker://127.0.0.1:PORT/REPO:TAG}. */
    String ref(String repoAndTag) {
        return "docker://" + address() + "/" + repoAndTag;
    }

    void push(String ociRef, String repoAndTag) throws IOException {
        Commands.Result r = Commands.run(List.of("skopeo", "copy", "--quiet", "--dest-tls-verify=false", ociRef,
                ref(repoAndTag)), Duration.ofSeconds(60));
        if (!r.ok()) {
            fail("skopeo copy " + ociRef + " failed: " + r.stderr());
        }
    }

    /** Where the registry keeps a blob's bytes (distribution's filesystem layout). */
    Path blobData(String digest) {
        String hex = digest.substring("sha256:".length());
        return dir.resolve("storage/docker/registry/v2/blobs/sha256").resolve(hex.substring(0, 2)).resolve(hex)
                .resolve("data");
    }

    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
