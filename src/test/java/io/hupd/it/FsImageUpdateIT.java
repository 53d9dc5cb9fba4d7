package io.hupd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.adapters.sim.SampleOs;
import io.hupd.cli.Main;
import io.hupd.device.Device;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.fetch.ImageSources;
import io.hupd.image.fsimage.FsImageWriter;
import io.hupd.image.oci.FsImages;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.machine.UpdateContext;
import io.hupd.ports.Clock;
import io.hupd.runner.UpdateRequest;
import io.hupd.testkit.Cli.Run;
import io.hupd.testkit.Cli;
import io.hupd.testkit.Faults;
import io.hupd.testkit.TestRig;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Filesystem-image updates through {@code ./hupd} from a real registry on loopback (docker-registry, pushed by
 * skopeo): chunks fetched with Range requests and streamed into the slot, a corrupted chunk, a cut connection, a
 * process killed mid-write, and an image larger than the slot.
 */
class FsImageUpdateIT {
    private static final String V2 = TestRig.V2;
    private static final String TAG = "hostos:" + V2 + "-ext4";

    @TempDir
    static Path shared;
    static LocalRegistry primary;
    static LocalRegistry corrupted;
    static ResolvedImage image;
    static Path layout;

    @TempDir
    Path tmp;

    @BeforeAll
    static void registries() throws Exception {
        LocalRegistry.requireTools();
        Path rootfs = shared.resolve("rootfs");
        SampleOs.writeRootfs(rootfs, V2, "14.1.0", SampleOs.Flaw.NONE);
        // incompressible, so the chunks are many and a cut lands in one
        byte[] firmware = new byte[5 << 20];
        new Random(42).nextBytes(firmware);
        Files.write(Files.createDirectories(rootfs.resolve("lib/firmware")).resolve("blob.bin"), firmware);
        layout = shared.resolve("layout");
        image = FsImageWriter.write(rootfs, new ImageSpec(V2, TestRig.TYPE, "arm64", Optional.of("14.1.0")), layout,
                "fs", 16L << 20);
        FsImageWriter.write(rootfs, new ImageSpec(V2, TestRig.TYPE, "arm64", Optional.of("14.1.0")), layout,
                "big", 32L << 20);
        primary = LocalRegistry.start(shared.resolve("primary"));
        corrupted = LocalRegistry.start(shared.resolve("corrupted"));
        primary.push("oci:" + layout + ":fs", TAG);
        corrupted.push("oci:" + layout + ":fs", TAG);
        Path data = corrupted.blobData(FsImages.layersOf(image).orElseThrow().image().digest());
        try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 0xff);
        }
    }

    @AfterAll
    static void stopRegistries() throws Exception {
        for (LocalRegistry r : new LocalRegistry[] {primary, corrupted}) {
            if (r != null) {
                r.stop();
            }
        }
    }

    static Run update(TestRig rig, String... images) {
        List<String> args = new ArrayList<>(List.of("update", "--device", rig.deviceDir.toString(),
                "--target-version", V2, "--json"));
        for (String i : images) {
            args.add("--image");
            args.add(i);
        }
        return Cli.hupd(args.toArray(String[]::new));
    }

    private static UpdateContext context(TestRig rig) throws IOException {
        return rig.store().load().orElseThrow().context();
    }

    private static long layerSize() {
        return FsImages.layersOf(image).orElseThrow().image().size();
    }

    private static String logs(TestRig rig) throws IOException {
        StringBuilder all = new StringBuilder();
        try (var files = Files.list(rig.sim.dataDir().resolve("balenahup"))) {
            for (Path log : files.sorted().toList()) {
                all.append(Files.readString(log));
            }
        }
        return all.toString();
    }

    @Test
    void chunksStreamedFromTheRegistryAndTheNewOsCommits() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        Run run = update(rig, primary.ref(TAG));
        assertEquals(Main.OK, run.code(), run.err());
        long fetched = run.status().get("bytesFetched").asLong();
        // every chunk of random data came over the wire once; the zero chunks may come from the running root
        assertTrue(fetched > (5L << 20) && fetched <= image.totalBytes(), "bytes fetched " + fetched);
        assertEquals("verified " + V2, Files.readString(rig.sim.stateDir().resolve("hupd-slot-B")).strip());
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertEquals(V2, rig.runningVersion());
    }

    @Test
    void corruptedChunkOnTheRegistryIsRefusedAndTheFallbackUsed() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        Run run = update(rig, corrupted.ref(TAG), "oci:" + layout + ":fs");
        assertEquals(Main.OK, run.code(), run.err());
        List<String> failures = context(rig).sourceFailures();
        assertTrue(failures.stream().anyMatch(f -> f.startsWith(corrupted.ref(TAG)) && f.contains("chunk ")
                && f.contains("the index says")), failures.toString());
        assertTrue(logs(rig).contains("fetching chunks from oci:" + layout + ":fs"), logs(rig));
        assertEquals(V2, rig.ports().slots().osRelease("B").get("VERSION_ID"));
        assertEquals(Optional.of(V2), rig.ports().slots().verifiedVersion("B"));
    }

    @Test
    void corruptedChunkWithNoFallbackFailsBeforeTheSwitch() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        Run run = update(rig, corrupted.ref(TAG));
        assertEquals(Main.FAILED, run.code(), run.out());
        assertTrue(run.err().startsWith("hupd: "), run.err());
        assertEquals(TestRig.V1, rig.runningVersion());
        assertEquals(2, rig.sim.bootloader().read().rootPart());
        assertEquals(Optional.empty(), rig.ports().slots().verifiedVersion("B"));
    }

    @Test
    void connectionCutMidChunkIsAskedAgainFromThatChunk() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        try (CuttingProxy proxy = new CuttingProxy(primary.port, layerSize() / 2)) {
            String viaProxy = "docker://127.0.0.1:" + proxy.port() + "/" + TAG;
            Run run = update(rig, viaProxy);
            assertEquals(Main.OK, run.code(), run.err());
            assertTrue(proxy.didCut(), "the proxy cut the connection");
            long fetched = run.status().get("bytesFetched").asLong();
            // not started again: at most one Range request's worth (8 MiB, here less than the layer) is read twice
            assertTrue(fetched < image.totalBytes() + layerSize() / 2, "bytes fetched " + fetched);
            assertTrue(proxy.requests.toString().matches("(?s).*\r\n[Rr]ange: bytes=[1-9][0-9]*-[0-9]+\r\n.*"),
                    proxy.requests.toString());
            assertTrue(logs(rig).contains("asking again from chunk"), logs(rig));
        }
        assertEquals(Optional.of(V2), rig.ports().slots().verifiedVersion("B"));
    }

    @Test
    void processKilledMidWriteResumesAtTheFirstChunkNotWritten() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        UpdateRequest request = new UpdateRequest(V2, List.of(primary.ref(TAG)), null, true, true);
        Device device = rig.sim.ports(Clock.SYSTEM, ImageSources.factory(
                RegistryOptions.DEFAULT.withArchitecture("arm64")));
        long crashAfter = (16L << 20) * 3 / 4;
        // FETCHING's config and index are a few KiB of this: the crash comes three quarters into the write
        Faults.updateDyingAfterBytes(device, rig.sim.dataDir(), request, crashAfter);
        assertEquals("WRITING_ROOTFS", rig.state());
        Path record = rig.sim.dataDir().resolve("balenahup").getParent();
        String written;
        try (var found = Files.walk(rig.sim.dataDir())) {
            written = Files.readString(found.filter(p -> p.getFileName().toString().equals("fsimage-written.json"))
                    .findFirst().orElseThrow());
        }
        assertTrue(written.matches(".*\"chunksWritten\":[1-9].*"), written + " in " + record);
        long before = Long.parseLong(written.replaceAll(".*\"chunkBytesFetched\":([0-9]+).*", "$1"));

        Run run = update(rig, primary.ref(TAG));
        assertEquals(Main.OK, run.code(), run.err());
        assertTrue(logs(rig).contains("resuming the write of slot B at chunk "), logs(rig));
        long fetched = run.status().get("bytesFetched").asLong();
        // what was written and recorded before the crash is not fetched again
        assertTrue(before > 0 && fetched < image.totalBytes() + layerSize() / 2, before + " then " + fetched);
        assertEquals(Optional.of(V2), rig.ports().slots().verifiedVersion("B"));
    }

    @Test
    void imageLargerThanTheSlotIsRefusedInTheCoherenceChecks() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        Run run = update(rig, "oci:" + layout + ":big");
        assertEquals(Main.FAILED, run.code(), run.out());
        assertTrue(run.err().contains("does not fit in slot B"), run.err());
        assertTrue(logs(rig).contains("[FAILED] PREFLIGHT -> FAILED"), logs(rig));
        assertEquals(TestRig.V1, rig.runningVersion());
    }
}
