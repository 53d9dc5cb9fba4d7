package io.hupd.image.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.cli.Main;
import io.hupd.device.Device;
import io.hupd.image.fetch.ImageSourceFactory;
import io.hupd.image.fetch.ImageSources;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateState;
import io.hupd.ports.Clock;
import io.hupd.runner.UpdateRequest;
import io.hupd.testkit.Cli;
import io.hupd.testkit.Faults;
import io.hupd.testkit.TestRig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An update from a registry that needs a login, interrupted in FETCHING, then resumed by a process that was not
 * given the login: a power-on ({@code hupd boot}) or {@code hupd update} run again with fewer options. The
 * resumed fetch uses the registry options the update was started with.
 */
class RegistryOptionsOnResumeTest {
    private static final String PASSWORD = "s3cret-pass";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FakeRegistry registry = new FakeRegistry();
    @TempDir
    Path tmp;
    TestRig rig;
    Path credentials;
    String ref;

    RegistryOptionsOnResumeTest() throws Exception {}

    @BeforeEach
    void serveTheTargetBehindALogin() throws Exception {
        rig = TestRig.create(tmp.resolve("rig"), "uboot");
        ResolvedImage image = ImageSources.open(rig.ref(TestRig.V2)).resolve();
        Path blobs = ImageReference.parse(rig.ref(TestRig.V2)).layoutPath().resolve("blobs/sha256");
        String manifest = Files.readString(blobs.resolve(image.manifestDigest().substring(7)));
        registry.putManifest(TestRig.V2, JSON.readTree(manifest).path("mediaType")
                .asText("application/vnd.oci.image.manifest.v1+json"), manifest);
        for (var d : image.blobs()) {
            registry.putBlob(Files.readAllBytes(blobs.resolve(d.hex())));
        }
        String login = "operator:" + PASSWORD;
        registry.requireBasicLogin(login);
        credentials = tmp.resolve("auth.json");
        Files.writeString(credentials, "{\"auths\":{\"" + registry.address() + "\":{\"auth\":\""
                + Base64.getEncoder().encodeToString(login.getBytes(StandardCharsets.UTF_8)) + "\"}}}");
        ref = "docker://" + registry.address() + "/hostos:" + TestRig.V2;
    }

    @AfterEach
    void stop() {
        registry.close();
    }

    /** {@code hupd update --registry-credentials FILE --image REF}, whose process dies as FETCHING begins. */
    private void startAndDieInFetching() throws Exception {
        startAndDieIn(UpdateState.FETCHING);
    }

    private void startAndDieIn(UpdateState state) throws Exception {
        ImageSourceFactory images = ImageSources.factory(RegistryOptions.DEFAULT.withArchitecture("arm64"),
                RegistrySettings.of(List.of(), credentials));
        Device device = rig.sim.ports(Clock.SYSTEM, images);
        rig.steps = Faults.at(state, Faults.Kind.CRASH_BEFORE, 1);
        assertThrows(Faults.SimulatedCrash.class, () -> rig.service(device)
                .update(new UpdateRequest(TestRig.V2, List.of(ref), null, true, true)));
        rig.steps = UnaryOperator.identity();
        assertEquals(state.name(), rig.state());
    }

    @Test
    void theOptionsAreRecordedWithTheUpdatesFirstPersistedState() throws Exception {
        startAndDieIn(UpdateState.LOCKED);
        UpdateContext ctx = rig.store().load().orElseThrow().context();
        assertEquals(credentials.toAbsolutePath().toString(), ctx.registries().credentialsFile());
    }

    @Test
    void aPowerOnResumesTheFetchWithTheRecordedCredentialsFile() throws Exception {
        startAndDieInFetching();
        UpdateContext ctx = rig.store().load().orElseThrow().context();
        assertEquals(credentials.toAbsolutePath().toString(), ctx.registries().credentialsFile());
        String stored = JSON.writeValueAsString(ctx);
        assertFalse(stored.contains(PASSWORD) || stored.contains(Base64.getEncoder().encodeToString(
                ("operator:" + PASSWORD).getBytes(StandardCharsets.UTF_8))), "no secret in the context: " + stored);

        Cli.Run boot = Cli.hupd("boot", "--device", rig.deviceDir.toString(), "--until-settled", "--json");
        assertEquals(Main.OK, boot.code(), boot.out() + boot.err());
        assertEquals("COMMITTED", rig.state(), rig.trace().toString());
        assertEquals(TestRig.V2, rig.runningVersion());
        assertEquals(ref, rig.store().load().orElseThrow().context().source());
    }

    @Test
    void updateRunAgainWithoutTheOptionsResumesWithTheRecordedOnes() throws Exception {
        startAndDieInFetching();
        Cli.Run run = Cli.hupd("update", "--device", rig.deviceDir.toString(), "--target-version", TestRig.V2,
                "--image", ref, "--json");
        assertEquals(Main.OK, run.code(), run.out() + run.err());
        JsonNode status = run.status();
        assertEquals(ref, status.get("source").asText());
        assertTrue(rig.trace().contains("FETCHING -RESUME-> FETCHING"), rig.trace().toString());
        Path log = rig.sim.dataDir().resolve("balenahup/" + status.get("updateId").asText() + ".log");
        String lines = Files.readString(log);
        assertTrue(lines.contains("this update was started with other registry options; it keeps them"), lines);
        assertFalse(lines.contains(PASSWORD), lines);
    }

    @Test
    void aTagIsStillReadOnceWhenTheRecordedSettingsAreApplied() throws Exception {
        ImageSourceFactory plain = ImageSources.factory(RegistryOptions.DEFAULT.withArchitecture("arm64"));
        RegistrySettings recorded = RegistrySettings.of(List.of(), credentials);
        assertSame(plain.with(recorded), plain.with(recorded));
        plain.with(recorded).open(ref).resolve();
        plain.with(recorded).open(ref).resolve();
        long tagReads = registry.log.stream().filter(l -> l.startsWith("GET /v2/hostos/manifests/" + TestRig.V2
                + " auth=")).count();
        assertEquals(1, tagReads, registry.log.toString());
    }
}
