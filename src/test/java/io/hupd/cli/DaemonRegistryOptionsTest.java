package io.hupd.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.image.registry.RegistrySettings;
import io.hupd.machine.UpdateContext;
import io.hupd.runner.UpdateRequest;
import io.hupd.testkit.Cli;
import io.hupd.testkit.TestRig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An update asked of the daemon reaches registries exactly as {@code hupd update} would without one: every
 * registry option travels in the request (they used to stop at --insecure-registry and --registry-credentials).
 */
class DaemonRegistryOptionsTest {
    @TempDir
    Path tmp;

    /** A CA certificate made by the real openssl, as a user would give it to --registry-ca. */
    private Path caCertificate() throws Exception {
        Path cert = tmp.resolve("ca.pem");
        io.hupd.fs.Commands.check(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", tmp.resolve("ca.key").toString(), "-out",
                cert.toString(), "-days", "2", "-subj", "/CN=hupd test CA"), Duration.ofSeconds(60));
        return cert;
    }

    @Test
    void theRequestCarriesEveryRegistryOption() throws Exception {
        UpdateRequest update = new UpdateRequest("2.114.0", List.of("oci:/images:2.114.0", "docker://r.local/os:2"),
                "docker://r.local/os:2-delta", false, true);
        RegistrySettings registries = RegistrySettings.of(List.of("r.local:5000", "mirror.local"),
                tmp.resolve("auths.json"), 4096L, 7);
        Map<String, Path> ca = Map.of("r.local:5443", tmp.resolve("ca.pem"));
        ApiProtocol.UpdateOrder sent = new ApiProtocol.UpdateOrder(update, true, registries, ca);
        String line = ApiProtocol.JSON.writeValueAsString(ApiProtocol.updateRequest(sent));
        assertEquals(sent, ApiProtocol.updateOrder(ApiProtocol.JSON.readTree(line)), line);
    }

    @Test
    void anUpdateThroughTheDaemonKeepsTheRegistryOptionsItWasGiven() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        Path credentials = Files.writeString(tmp.resolve("auths.json"), "{\"auths\": {}}");
        Path ca = caCertificate();
        ByteArrayOutputStream journal = new ByteArrayOutputStream();
        Path socket = DaemonSocket.forDevice(rig.deviceDir);
        try (LocalApi api = new LocalApi(socket, Common.DeviceDir.simulated(rig.deviceDir),
                new PrintStream(journal, true, StandardCharsets.UTF_8)).start()) {
            Cli.Run r = Cli.hupd("update", "--device", rig.deviceDir.toString(), "--target-version", TestRig.V2,
                    "--image", rig.ref(TestRig.V2), "--insecure-registry", "Registry.Local:5000",
                    "--registry-credentials", credentials.toString(), "--registry-speed-limit", "4096",
                    "--registry-speed-time", "7", "--registry-ca", "registry.local:5443=" + ca);
            assertEquals(Main.OK, r.code(), r.err());
        }
        assertTrue(journal.toString(StandardCharsets.UTF_8).contains("update to " + TestRig.V2 + " requested by"),
                "the update went through the daemon: " + journal);
        UpdateContext.Registries kept = rig.store().load().orElseThrow().context().registries();
        assertEquals(List.of("registry.local:5000"), kept.insecure());
        assertEquals(credentials.toAbsolutePath().toString(), kept.credentialsFile());
        assertEquals(4096L, kept.lowSpeedBytes());
        assertEquals(7, kept.lowSpeedSeconds());
    }

    @Test
    void aMissingCaBundleIsRefusedByTheDaemonToo() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        ByteArrayOutputStream journal = new ByteArrayOutputStream();
        try (LocalApi api = new LocalApi(DaemonSocket.forDevice(rig.deviceDir),
                Common.DeviceDir.simulated(rig.deviceDir), new PrintStream(journal, true, StandardCharsets.UTF_8))
                .start();
                DaemonClient client = DaemonClient.connect(DaemonSocket.forDevice(rig.deviceDir)).orElseThrow()) {
            PrintStream oldErr = System.err;
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code;
            try {
                code = client.update(new UpdateRequest(TestRig.V2, List.of(rig.ref(TestRig.V2)), null, true, true),
                        false, RegistrySettings.NONE, Map.of("registry.local:5443", tmp.resolve("gone.pem")));
            } finally {
                System.setErr(oldErr);
            }
            assertEquals(Main.FAILED, code);
            assertEquals("hupd: --registry-ca registry.local:5443: " + tmp.resolve("gone.pem") + " does not exist",
                    err.toString(StandardCharsets.UTF_8).strip());
        }
        assertTrue(rig.store().load().isEmpty() || rig.store().load().orElseThrow().context().registries() == null,
                "no update started");
    }
}
