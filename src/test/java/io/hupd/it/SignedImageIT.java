package io.hupd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hupd.adapters.sim.SampleOs;
import io.hupd.cli.Main;
import io.hupd.image.authoring.ImageSigning;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.authoring.OciLayoutWriter;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.trust.CosignSignatures;
import io.hupd.image.trust.SigstoreKeys;
import io.hupd.testkit.Cli.Run;
import io.hupd.testkit.Cli;
import io.hupd.testkit.TestRig;
import io.hupd.testkit.TreeSnapshot;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Signed images through the real registry on loopback: cosign-format signature manifests (tag sha256-HEX.sig)
 * made by {@code hupd image sign} and pushed with skopeo next to the image. Debian's skopeo 1.9.3 cannot make
 * sigstore signatures itself ("Debian-local change: sigstore disabled"), see docs/trust.md.
 */
class SignedImageIT {
    private static final String V2 = TestRig.V2;
    private static final byte[] PASS = "correct horse".getBytes(StandardCharsets.UTF_8);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;
    static LocalRegistry registry;
    static String trustedPub;
    static String revokedPub;
    static String revokedFingerprint;
    static PrivateKey trusted;
    static PrivateKey unknown;
    static PrivateKey revoked;
    static ResolvedImage imageA;
    static ResolvedImage imageB;

    @TempDir
    Path tmp;

    @BeforeAll
    static void signAndPush() throws Exception {
        LocalRegistry.requireTools();
        String[] t = SigstoreKeys.generate(PASS);
        String[] u = SigstoreKeys.generate(PASS);
        String[] r = SigstoreKeys.generate(PASS);
        trusted = SigstoreKeys.readPrivate(t[0], PASS);
        unknown = SigstoreKeys.readPrivate(u[0], PASS);
        revoked = SigstoreKeys.readPrivate(r[0], PASS);
        trustedPub = t[1];
        revokedPub = r[1];
        revokedFingerprint = SigstoreKeys.fingerprint(SigstoreKeys.readPublic(r[1], "revoked"));

        Path rootA = shared.resolve("rootfs-a");
        SampleOs.writeRootfs(rootA, V2, "14.1.0", SampleOs.Flaw.NONE);
        Path rootB = shared.resolve("rootfs-b");
        SampleOs.writeRootfs(rootB, V2, "14.1.0", SampleOs.Flaw.NONE);
        Files.writeString(rootB.resolve("etc/swapped-in"), "not the image that was signed\n");
        Path base = shared.resolve("base");
        imageA = OciLayoutWriter.write(rootA, new ImageSpec(V2, TestRig.TYPE, "arm64", Optional.of("14.1.0"),
                Optional.of(2L)), base, "a");
        imageB = OciLayoutWriter.write(rootB, new ImageSpec(V2, TestRig.TYPE, "arm64", Optional.of("14.1.0"),
                Optional.of(2L)), base, "b");

        registry = LocalRegistry.start(shared.resolve("registry"));
        signed("trusted", trusted, "trusted/hostos:" + V2);
        registry.push("oci:" + base + ":a", "unsigned/hostos:" + V2);
        signed("unknown", unknown, "unknown/hostos:" + V2);
        signed("revoked", revoked, "revoked/hostos:" + V2);
        signed("otherimage", trusted, "elsewhere/hostos:" + V2);
        signed("othertag", trusted, "othertag/hostos:9.9.9");

        Path tampered = layout("tampered");
        sign(tampered, trusted, "tampered/hostos:" + V2);
        tamperPayload(tampered, CosignSignatures.tagFor(imageA.manifestDigest()));
        pushWithSignature(tampered, "tampered");

        // Signed as A, then the registry serves B under the tag, with A's signature where B's would be.
        Path swapped = layout("swapped");
        sign(swapped, trusted, "swapped/hostos:" + V2);
        registry.push("oci:" + swapped + ":b", "swapped/hostos:" + V2);
        registry.push("oci:" + swapped + ":" + CosignSignatures.tagFor(imageA.manifestDigest()),
                "swapped/hostos:" + CosignSignatures.tagFor(imageB.manifestDigest()));
    }

    @AfterAll
    static void stop() throws Exception {
        if (registry != null) {
            registry.stop();
        }
    }

    private static Path layout(String name) throws Exception {
        Path dir = shared.resolve("layout-" + name);
        Process p = new ProcessBuilder("cp", "-a", shared.resolve("base").toString(), dir.toString()).start();
        assertEquals(0, p.waitFor());
        return dir;
    }

    private static void sign(Path layout, PrivateKey key, String repoAndTag) throws Exception {
        ImageSigning.signLayout(ImageReference.parse("oci:" + layout + ":a"), registry.address() + "/" + repoAndTag,
                key);
    }

    private static void signed(String repo, PrivateKey key, String identity) throws Exception {
        Path dir = layout(repo);
        sign(dir, key, identity);
        pushWithSignature(dir, repo);
    }

    private static void pushWithSignature(Path dir, String repo) throws Exception {
        String sigTag = CosignSignatures.tagFor(imageA.manifestDigest());
        registry.push("oci:" + dir + ":a", repo + "/hostos:" + V2);
        registry.push("oci:" + dir + ":" + sigTag, repo + "/hostos:" + sigTag);
    }

    /** Changes a byte of the signed payload (its ignored 'optional' part), keeping the signature. */
    private static void tamperPayload(Path layout, String sigTag) throws Exception {
        ObjectNode index = (ObjectNode) JSON.readTree(layout.resolve("index.json").toFile());
        for (var entry : index.get("manifests")) {
            if (!sigTag.equals(entry.path("annotations").path("org.opencontainers.image.ref.name").asText())) {
                continue;
            }
            ObjectNode manifest = (ObjectNode) JSON.readTree(blob(layout, entry.get("digest").asText()));
            ObjectNode layer = (ObjectNode) manifest.get("layers").get(0);
            String payload = new String(blob(layout, layer.get("digest").asText()), StandardCharsets.UTF_8);
            byte[] changed = payload.replace("\"optional\":null", "\"optional\":{\"a\":\"b\"}")
                    .getBytes(StandardCharsets.UTF_8);
            assertTrue(changed.length != payload.length(), payload);
            layer.put("digest", writeBlob(layout, changed)).put("size", changed.length);
            byte[] m = JSON.writeValueAsBytes(manifest);
            ((ObjectNode) entry).put("digest", writeBlob(layout, m)).put("size", m.length);
        }
        Files.write(layout.resolve("index.json"), JSON.writeValueAsBytes(index));
    }

    private static byte[] blob(Path layout, String digest) throws Exception {
        return Files.readAllBytes(layout.resolve("blobs/sha256").resolve(digest.substring(7)));
    }

    private static String writeBlob(Path layout, byte[] content) throws Exception {
        String d = "sha256:" + TreeSnapshot.sha256(content);
        Files.write(layout.resolve("blobs/sha256").resolve(d.substring(7)), content);
        return d;
    }

    private TestRig rigWithTrustStore(String policy) throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        Path trust = Files.createDirectories(rig.deviceDir.resolve("trust/keys"));
        Files.writeString(trust.resolve("release.pub"), trustedPub);
        Files.writeString(trust.resolve("old-release.pub"), revokedPub);
        Files.writeString(rig.deviceDir.resolve("trust/revoked"), "# leaked\n" + revokedFingerprint + "\n");
        if (policy != null) {
            Files.writeString(rig.deviceDir.resolve("trust/policy"), policy + "\n");
        }
        return rig;
    }

    private static Run update(TestRig rig, String repo) {
        return Cli.hupd("update", "--device", rig.deviceDir.toString(), "--target-version", V2, "--json",
                "--image", registry.ref(repo + "/hostos:" + V2));
    }

    @Test
    void signedByATrustedKeyIsInstalledAndCommitted() throws Exception {
        TestRig rig = rigWithTrustStore(null);
        Run run = update(rig, "trusted");
        assertEquals(Main.OK, run.code(), run.err() + run.out());
        Cli.ok("boot", "--device", rig.deviceDir.toString(), "--until-settled");
        assertEquals("COMMITTED", rig.state());
        assertEquals(V2, rig.runningVersion());
        Run status = Cli.hupd("status", "--device", rig.deviceDir.toString(), "--json");
        assertEquals(2, status.status().get("securityFloor").asLong(), status.out());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unsigned   | is not signed (no sha256-",
        "unknown    | not signed by any key of the trust store",
        "revoked    | signed by the revoked key " + "sha256:",
        "otherimage | /elsewhere/hostos:2.114.0, not the repository 127.0.0.1:",
        "othertag   | /othertag/hostos:9.9.9, not the tag 2.114.0",
        "tampered   | not signed by any key of the trust store",
        "swapped    | the signature is for the manifest sha256:",
    })
    void refusedWithAOneLineReasonAndNothingWritten(String repo, String reason) throws Exception {
        TestRig rig = rigWithTrustStore(null);
        String spare = TreeSnapshot.sha256(Files.readAllBytes(rig.deviceDir.resolve("rootB.img")));
        Run run = update(rig, repo);
        assertEquals(Main.FAILED, run.code(), run.out());
        String err = run.err().strip();
        assertTrue(err.startsWith("hupd: update failed: ") && !err.contains("\n"), err);
        assertTrue(err.contains("signature check failed: ") && err.contains(reason.strip()), err);
        assertEquals(spare, TreeSnapshot.sha256(Files.readAllBytes(rig.deviceDir.resolve("rootB.img"))),
                "nothing written to the spare slot");
        assertTrue(rig.ports().supervisor().isRunning(), "the supervisor runs");
        assertEquals("FAILED", rig.state());
        assertEquals(TestRig.V1, rig.runningVersion());
        assertTrue(Files.notExists(rig.sim.dataDir().resolve("hupd/cache/sha256").resolve(
                imageA.layers().get(0).hex())), "no blob of the image was fetched");
    }

    @Test
    void policyWarnInstallsAnUnsignedImageAndSaysSo() throws Exception {
        TestRig rig = rigWithTrustStore("warn");
        Run run = update(rig, "unsigned");
        assertEquals(Main.OK, run.code(), run.err());
        String logs = "";
        try (var files = Files.list(rig.sim.dataDir().resolve("balenahup"))) {
            for (Path f : files.toList()) {
                logs += Files.readString(f);
            }
        }
        assertTrue(logs.contains("signature check failed, installing anyway (trust policy warn): the image sha256:"),
                logs);
    }

    @Test
    void signedOciLayoutIsInstalledAndAnUnsignedOneRefused() throws Exception {
        TestRig rig = rigWithTrustStore(null);
        Path signedLayout = layout("oci-signed-" + System.nanoTime());
        ImageSigning.signLayout(ImageReference.parse("oci:" + signedLayout + ":a"),
                ImageSigning.identity(null, "a"), trusted);
        Run refused = Cli.hupd("update", "--device", rig.deviceDir.toString(), "--target-version", V2, "--image",
                "oci:" + signedLayout + ":b");
        assertEquals(Main.FAILED, refused.code());
        assertTrue(refused.err().contains("is not signed"), refused.err());
        Run ok = Cli.hupd("update", "--device", rig.deviceDir.toString(), "--target-version", V2, "--image",
                "oci:" + signedLayout + ":a");
        assertEquals(Main.OK, ok.code(), ok.err());
    }
}
