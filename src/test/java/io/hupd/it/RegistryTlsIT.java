package io.hupd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hupd.cli.Main;
import io.hupd.fs.Commands;
import io.hupd.testkit.Cli;
import io.hupd.testkit.Cli.Run;
import io.hupd.testkit.TestRig;
import io.hupd.testkit.TreeSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registries over TLS (Debian's docker-registry with certificates openssl makes here): a CA bundle per registry,
 * bad certificates refused with a one-line reason, no fallback to plain HTTP.
 */
class RegistryTlsIT {
    private static final String TAG = "hostos:" + TestRig.V2;
    @TempDir
    static Path shared;
    static Path ca;
    static Path otherCa;
    static LocalRegistry good;
    static LocalRegistry wrongHost;
    static LocalRegistry expired;
    static LocalRegistry unknownCa;
    static LocalRegistry plain;
    static final List<LocalRegistry> all = new ArrayList<>();

    @TempDir
    Path tmp;

    private static void openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Commands.Result r = Commands.run(cmd, Duration.ofSeconds(30));
        assertTrue(r.ok(), String.join(" ", cmd) + ": " + r.stderr());
    }

    private static Path caNamed(String name) throws Exception {
        Path dir = Files.createDirectories(shared.resolve(name));
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                dir.resolve("ca.key").toString(), "-out", dir.resolve("ca.pem").toString(), "-days", "2", "-subj",
                "/CN=hupd test " + name);
        return dir;
    }

    /** A server certificate signed by {@code caDir}'s CA, for {@code san}, valid for {@code days} (negative: expired). */
    private static LocalRegistry serve(String name, Path caDir, String san, int days) throws Exception {
        Path dir = Files.createDirectories(shared.resolve(name));
        Path key = dir.resolve("server.key");
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.toString(),
                "-out", dir.resolve("server.csr").toString(), "-subj", "/CN=" + name);
        Files.writeString(dir.resolve("ext"), "subjectAltName=" + san + "\n");
        openssl("x509", "-req", "-in", dir.resolve("server.csr").toString(), "-CA", caDir.resolve("ca.pem").toString(),
                "-CAkey", caDir.resolve("ca.key").toString(), "-CAcreateserial", "-out",
                dir.resolve("server.pem").toString(), "-days", Integer.toString(days), "-extfile",
                dir.resolve("ext").toString());
        LocalRegistry r = LocalRegistry.start(dir.resolve("registry"), dir.resolve("server.pem"), key);
        all.add(r);
        return r;
    }

    @BeforeAll
    static void registries() throws Exception {
        LocalRegistry.requireTools();
        Path caDir = caNamed("ca");
        ca = caDir.resolve("ca.pem");
        Path otherDir = caNamed("other-ca");
        otherCa = otherDir.resolve("ca.pem");
        good = serve("good", caDir, "IP:127.0.0.1", 1);
        wrongHost = serve("wrong-host", caDir, "DNS:registry.example", 1);
        expired = serve("expired", caDir, "IP:127.0.0.1", -1);
        unknownCa = serve("unknown-ca", otherDir, "IP:127.0.0.1", 1);
        plain = LocalRegistry.start(shared.resolve("plain"));
        all.add(plain);
        TestRig images = TestRig.create(shared.resolve("images"), "uboot");
        for (LocalRegistry r : List.of(good, plain)) {
            r.push(images.ref(TestRig.V2), TAG);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (LocalRegistry r : all) {
            r.stop();
        }
    }

    private Run update(TestRig rig, LocalRegistry r, String... more) {
        List<String> args = new ArrayList<>(List.of("update", "--device", rig.deviceDir.toString(),
                "--target-version", TestRig.V2, "--json", "--image", r.ref(TAG)));
        args.addAll(List.of(more));
        return Cli.hupd(args.toArray(String[]::new));
    }

    @Test
    void aCertificateFromTheRegistrysCaIsAcceptedFromTheOptionOrTheTrustStore() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        Run run = update(rig, good, "--registry-ca", good.address() + "=" + ca);
        assertEquals(Main.OK, run.code(), run.err());

        TestRig second = TestRig.create(tmp.resolve("rig2"), "grub");
        Path bundles = Files.createDirectories(second.deviceDir.resolve("trust/registry-ca"));
        Files.copy(ca, bundles.resolve(good.address() + ".pem"));
        Run fromStore = update(second, good);
        assertEquals(Main.OK, fromStore.code(), fromStore.err());
    }

    @Test
    void badCertificatesAreRefusedWithAOneLineReasonAndNothingChanges() throws Exception {
        record Case(LocalRegistry registry, String reason) {}
        for (Case c : List.of(new Case(wrongHost, "its certificate is for another host name"),
                new Case(expired, "its certificate has expired"),
                new Case(unknownCa, "its certificate is not signed by a trusted CA"))) {
            TestRig rig = TestRig.create(tmp.resolve("rig-" + c.registry().port), "uboot");
            String spare = TreeSnapshot.sha256(Files.readAllBytes(rig.deviceDir.resolve("rootB.img")));
            Run run = update(rig, c.registry(), "--registry-ca", c.registry().address() + "=" + ca);
            assertEquals(Main.FAILED, run.code(), run.out());
            String err = run.err().strip();
            assertTrue(err.startsWith("hupd: update failed: ") && !err.contains("\n"), err);
            assertTrue(err.contains("refusing " + c.registry().address() + ": " + c.reason()), err);
            assertEquals(spare, TreeSnapshot.sha256(Files.readAllBytes(rig.deviceDir.resolve("rootB.img"))));
            assertTrue(rig.ports().supervisor().isRunning());
        }
    }

    @Test
    void aRegistryWithACaBundleIsNeverSpokenToOverPlainHttp() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        // Loopback is plain HTTP by default; with a CA bundle it must be TLS, and a plain server fails.
        Run run = update(rig, plain, "--registry-ca", plain.address() + "=" + ca);
        assertEquals(Main.FAILED, run.code(), run.out());
        assertTrue(run.err().contains("TLS with " + plain.address() + " failed"), run.err());
        assertEquals("FAILED", rig.state());
    }

    @Test
    void aMissingCaBundleIsRefusedBeforeAnythingStarts() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        Run run = update(rig, good, "--registry-ca", good.address() + "=" + tmp.resolve("nope.pem"));
        assertEquals(Main.FAILED, run.code(), run.err());
        assertTrue(run.err().startsWith("hupd: --registry-ca "), run.err());
        assertEquals("IDLE", rig.state());
    }
}
