package io.hupd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.adapters.sim.SampleOs;
import io.hupd.cli.Main;
import io.hupd.device.Device;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.authoring.OciLayoutWriter;
import io.hupd.image.fetch.ImageSources;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.machine.MachineLimits;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateState;
import io.hupd.ports.BootSettings;
import io.hupd.ports.Clock;
import io.hupd.ports.Progress;
import io.hupd.runner.StepRegistry;
import io.hupd.runner.UpdateLog;
import io.hupd.runner.UpdateRequest;
import io.hupd.runner.UpdateService;
import io.hupd.testkit.Cli.Run;
import io.hupd.testkit.Cli;
import io.hupd.testkit.Faults;
import io.hupd.testkit.TestRig;
import io.hupd.testkit.TreeSnapshot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hupd update} against real registries on loopback (Debian's docker-registry, images pushed by skopeo):
 * the fallback chain, a corrupted blob, a network cut and a crash mid-download, and images for another device.
 */
class RegistryUpdateIT {
    private static final String V2 = TestRig.V2;
    private static final String TAG = "hostos:" + V2;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;
    /** The primary in most tests; has the good image. */
    static LocalRegistry primary;
    /** The fallback; has the good image. */
    static LocalRegistry fallback;
    /** Has the good image with its layer's bytes changed on disk (same size). */
    static LocalRegistry corrupted;
    static ResolvedImage image;

    @TempDir
    Path tmp;

    @BeforeAll
    static void registries() throws Exception {
        LocalRegistry.requireTools();
        // A layer of incompressible bytes, so a cut lands in the middle of a blob.
        Path rootfs = shared.resolve("rootfs");
        SampleOs.writeRootfs(rootfs, V2, "14.1.0", SampleOs.Flaw.NONE);
        byte[] firmware = new byte[1536 * 1024];
        new Random(42).nextBytes(firmware);
        Files.write(Files.createDirectories(rootfs.resolve("lib/firmware")).resolve("blob.bin"), firmware);
        Path layout = shared.resolve("layout");
        image = OciLayoutWriter.write(rootfs, new ImageSpec(V2, TestRig.TYPE, "arm64", Optional.of("14.1.0")),
                layout, "good");
        OciLayoutWriter.write(rootfs, new ImageSpec(V2, TestRig.TYPE, "amd64", Optional.of("14.1.0")), layout,
                "amd64");
        OciLayoutWriter.write(rootfs, new ImageSpec(V2, "intel-nuc", "arm64", Optional.of("14.1.0")), layout,
                "nuc");

        primary = LocalRegistry.start(shared.resolve("primary"));
        fallback = LocalRegistry.start(shared.resolve("fallback"));
        corrupted = LocalRegistry.start(shared.resolve("corrupted"));
        primary.push("oci:" + layout + ":good", TAG);
        primary.push("oci:" + layout + ":amd64", "hostos:" + V2 + "-amd64");
        primary.push("oci:" + layout + ":nuc", "hostos:" + V2 + "-nuc");
        fallback.push("oci:" + layout + ":good", TAG);
        corrupted.push("oci:" + layout + ":good", TAG);
        Path data = corrupted.blobData(image.layers().get(0).digest());
        try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 0xff);
        }
    }

    @AfterAll
    static void stopRegistries() throws Exception {
        for (LocalRegistry r : new LocalRegistry[] {primary, fallback, corrupted}) {
            if (r != null) {
                r.stop();
            }
        }
    }

    static Run hupd(String... args) {
        return Cli.hupd(args);
    }

    Run update(TestRig rig, String... images) {
        List<String> args = new java.util.ArrayList<>(List.of("update", "--device", rig.deviceDir.toString(),
                "--target-version", V2, "--json"));
        for (String i : images) {
            args.add("--image");
            args.add(i);
        }
        return hupd(args.toArray(String[]::new));
    }

    private static UpdateContext context(TestRig rig) throws IOException {
        return rig.store().load().orElseThrow().context();
    }

    /** The update's own log: the layer was checked while the source that succeeded downloaded it, and used. */
    private static void layerCheckedDuringTheDownload(TestRig rig) throws IOException {
        StringBuilder all = new StringBuilder();
        try (var logs = Files.list(rig.sim.dataDir().resolve("balenahup"))) {
            for (Path log : logs.toList()) {
                all.append(Files.readString(log));
            }
        }
        assertTrue(all.toString().contains("[FETCHING] the layer was checked during the download\n"), all.toString());
        assertTrue(all.toString().contains("[WRITING_ROOTFS] the layer was checked during the download; mke2fs"),
                all.toString());
    }

    @Test
    void primaryStoppedFallbackUsedAndTheNewOsCommits() throws Exception {
        LocalRegistry gone = LocalRegistry.start(tmp.resolve("gone"));
        gone.push("oci:" + shared.resolve("layout") + ":good", TAG);
        gone.stop();
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");

        Run run = update(rig, gone.ref(TAG), fallback.ref(TAG));
        assertEquals(Main.OK, run.code(), run.err());
        JsonNode status = run.status();
        assertEquals(fallback.ref(TAG), status.get("source").asText());
        assertEquals(image.totalBytes(), status.get("bytesFetched").asLong());
        UpdateContext ctx = context(rig);
        assertEquals(image.manifestDigest(), ctx.manifestDigest());
        assertEquals(1, ctx.sourceFailures().size(), ctx.sourceFailures().toString());
        assertTrue(ctx.sourceFailures().get(0).contains("connection refused"), ctx.sourceFailures().get(0));

        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertEquals(V2, rig.runningVersion());
    }

    @Test
    void tagMissingOnPrimaryFallbackUsed() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "grub");
        Run run = update(rig, primary.ref("hostos:9.9.9"), fallback.ref(TAG));
        assertEquals(Main.OK, run.code(), run.err());
        assertEquals(fallback.ref(TAG), run.status().get("source").asText());
        String failure = context(rig).sourceFailures().get(0);
        assertTrue(failure.contains("not found (404)") && failure.contains("MANIFEST_UNKNOWN"), failure);
    }

    @Test
    void corruptedBlobOnPrimaryIsRefusedAndTheFallbackUsed() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        Run run = update(rig, corrupted.ref(TAG), fallback.ref(TAG));
        assertEquals(Main.OK, run.code(), run.err());
        assertEquals(fallback.ref(TAG), run.status().get("source").asText());
        String failure = context(rig).sourceFailures().get(0);
        assertTrue(failure.startsWith(corrupted.ref(TAG)) && failure.contains("digest mismatch"), failure);
        // The fallback's bytes are the ones in the cache, and nothing of the bad download is left.
        Path cache = rig.sim.dataDir().resolve("hupd/cache/blobs/sha256");
        try (var files = Files.list(cache)) {
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().startsWith(".")).toList());
        }
        layerCheckedDuringTheDownload(rig);
        assertEquals(V2, rig.ports().slots().osRelease("B").get("VERSION_ID"));
    }

    @Test
    void everySourceBadExitsOneWithTheDeviceUnchangedAndTheSupervisorRunning() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        Map<String, String> bootBefore = TreeSnapshot.of(rig.sim.bootDir());
        BootSettings settingsBefore = rig.sim.bootloader().read();
        String rootA = TreeSnapshot.sha256(Files.readAllBytes(rig.deviceDir.resolve("rootA.img")));
        String nowhere = "docker://127.0.0.1:" + closedPort() + "/" + TAG;

        // The corrupted primary answers the pre-flight check, so the supervisor is stopped before the fetch fails.
        Run run = update(rig, corrupted.ref(TAG), nowhere);
        assertEquals(Main.FAILED, run.code(), run.out());
        assertTrue(run.err().startsWith("hupd: update failed: all image sources failed"), run.err());
        assertTrue(run.err().contains(corrupted.ref(TAG)) && run.err().contains(nowhere), run.err());
        assertEquals(bootBefore, TreeSnapshot.of(rig.sim.bootDir()));
        assertEquals(settingsBefore, rig.sim.bootloader().read());
        assertEquals(rootA, TreeSnapshot.sha256(Files.readAllBytes(rig.deviceDir.resolve("rootA.img"))));
        assertEquals("user data\n", Files.readString(rig.deviceDir.resolve("data/user/notes.txt")));
        assertTrue(rig.trace().contains("STOPPING_SUPERVISOR -SUCCEEDED-> FETCHING"), rig.trace().toString());
        assertTrue(rig.ports().supervisor().isRunning(), "the supervisor runs again");
        assertEquals("FAILED", rig.state());
        assertEquals(TestRig.V1, rig.runningVersion());
    }

    @Test
    void connectionCutMidBlobIsResumedNotRestarted() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        long layer = image.layers().get(0).size();
        try (CuttingProxy proxy = new CuttingProxy(primary.port, layer / 2)) {
            String viaProxy = "docker://127.0.0.1:" + proxy.port() + "/" + TAG;
            Run run = update(rig, viaProxy);
            assertEquals(Main.OK, run.code(), run.err());
            assertTrue(proxy.didCut(), "the proxy cut the connection");
            assertEquals(viaProxy, run.status().get("source").asText());
            // Every byte of the image crossed the wire once: the cut blob was continued, not started again.
            assertEquals(image.totalBytes(), run.status().get("bytesFetched").asLong());
            assertTrue(proxy.requests.toString().matches("(?s).*\r\n[Rr]ange: bytes=[1-9][0-9]*-\r\n.*"),
                    proxy.requests.toString());
            assertTrue(proxy.bytesFromRegistry() < image.totalBytes() + layer / 4,
                    "bytes through the proxy: " + proxy.bytesFromRegistry());
        }
        layerCheckedDuringTheDownload(rig);
        assertEquals(V2, rig.ports().slots().osRelease("B").get("VERSION_ID"));
    }

    @Test
    void processKilledMidDownloadResumesOnTheNextRun() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        UpdateRequest request = new UpdateRequest(V2, List.of(primary.ref(TAG)), null, true, true);
        Device device = rig.sim.ports(Clock.SYSTEM, ImageSources.factory(RegistryOptions.DEFAULT.withArchitecture("arm64")));
        long crashAfter = image.config().size() + image.layers().get(0).size() / 3;
        Faults.updateDyingAfterBytes(device, rig.sim.dataDir(), request, crashAfter);
        assertEquals("FETCHING", rig.state());
        String layerHex = image.layers().get(0).digest().substring("sha256:".length());
        Path partial = rig.sim.dataDir().resolve("hupd/cache/blobs/sha256/.partial-" + layerHex);
        long kept = Files.size(partial);
        assertTrue(kept > 0 && kept < image.layers().get(0).size(), "partial bytes kept: " + kept);

        // A new process, the same command: it resumes the update and the download where it stopped.
        Run run = update(rig, primary.ref(TAG));
        assertEquals(Main.OK, run.code(), run.err());
        assertEquals(image.layers().get(0).size() - kept, run.status().get("bytesFetched").asLong(),
                "only the missing bytes of the layer came over the wire");
        assertFalse(Files.exists(partial));
        assertEquals(V2, rig.ports().slots().osRelease("B").get("VERSION_ID"));
    }

    @Test
    void imageForAnotherArchitectureOrDeviceTypeExitsOneNamingBoth() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        Map<String, String> bootBefore = TreeSnapshot.of(rig.sim.bootDir());

        Run arch = update(rig, primary.ref("hostos:" + V2 + "-amd64"));
        assertEquals(Main.FAILED, arch.code(), arch.out());
        assertTrue(arch.err().contains("amd64") && arch.err().contains("arm64"), arch.err());

        Run type = update(rig, primary.ref("hostos:" + V2 + "-nuc"));
        assertEquals(Main.FAILED, type.code(), type.out());
        assertTrue(type.err().contains("intel-nuc") && type.err().contains(TestRig.TYPE), type.err());

        assertEquals(bootBefore, TreeSnapshot.of(rig.sim.bootDir()));
        assertNotEquals("REBOOTING", rig.state());
        assertTrue(rig.ports().supervisor().isRunning());
    }

    @Test
    void notEnoughFreeSpaceInTheDataPartitionIsRefusedBeforeAnythingChanges() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        Device real = rig.sim.ports(Clock.SYSTEM, ImageSources.factory(RegistryOptions.DEFAULT.withArchitecture("arm64")));
        io.hupd.ports.DataPartition data = real.data();
        io.hupd.ports.DataPartition tiny = new io.hupd.ports.DataPartition() {
            @Override
            public Path blobCache() {
                return data.blobCache();
            }

            @Override
            public Path workDir(String updateId) {
                return data.workDir(updateId);
            }

            @Override
            public Path bootBackupDir(String updateId) {
                return data.bootBackupDir(updateId);
            }

            @Override
            public long freeBytes() {
                return image.totalBytes();
            }
        };
        Device small = new Device(real.deviceType(), real.architecture(), real.bootFilePolicy(), real.healthPolicy(),
                real.bootloader(), real.slots(), real.boot(), real.state(), tiny, real.supervisor(), real.system(),
                real.power(), real.health(), real.images(), real.clock());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        UpdateService service = new UpdateService(small, rig.sim.dataDir(), MachineLimits.DEFAULT,
                new UpdateLog(new PrintStream(out, true, StandardCharsets.UTF_8), Progress.NONE),
                new StepRegistry(small));
        assertEquals(UpdateState.FAILED, service.update(new UpdateRequest(V2, List.of(primary.ref(TAG)), null, true,
                true)));
        String reason = context(rig).reason();
        assertTrue(reason.contains("not enough free space in the data partition"), reason);
        assertFalse(rig.trace().contains("PREFLIGHT -SUCCEEDED-> STOPPING_SUPERVISOR"), rig.trace().toString());
    }

    private static int closedPort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
