package io.hupd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.cli.Main;
import io.hupd.testkit.Cli.Run;
import io.hupd.machine.UpdateContext;
import io.hupd.testkit.TestRig;
import io.hupd.testkit.TreeSnapshot;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delta updates against a real registry on loopback: the delta made by {@code hupd delta create} is pushed next
 * to the target image, the device applies it against the running OS's layer in its cache and writes the same
 * tree a full update writes; a corrupt delta, one for another source, or an unreachable delta source all end in
 * the full image.
 */
class DeltaUpdateIT {
    private static final String V1 = TestRig.V1;
    private static final String V2 = TestRig.V2;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;
    static LocalRegistry registry;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        registry = LocalRegistry.start(shared.resolve("registry"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (registry != null) {
            registry.stop();
        }
    }

    /** A device running V1 whose V2 image is in the registry under REPO:V2 (each rig's images are its own). */
    private TestRig rig(String repo) throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        registry.push(rig.ref(V2), repo + ":" + V2);
        return rig;
    }

    private static Run deltaCreate(String from, String to, String output) {
        Run r = io.hupd.testkit.Cli.hupd("delta", "create", "--from", from, "--to", to, "--output", output, "--json");
        assertEquals(Main.OK, r.code(), r.err());
        return r;
    }

    private static Run update(TestRig rig, String delta, String... images) {
        List<String> args = new ArrayList<>(List.of("update", "--device", rig.deviceDir.toString(),
                "--target-version", V2, "--json"));
        if (delta != null) {
            args.add("--delta");
            args.add(delta);
        }
        for (String i : images) {
            args.add("--image");
            args.add(i);
        }
        Run r = io.hupd.testkit.Cli.hupd(args.toArray(String[]::new));
        assertEquals(Main.OK, r.code(), r.err());
        return r;
    }

    private static UpdateContext context(TestRig rig) throws IOException {
        return rig.store().load().orElseThrow().context();
    }

    /** The files of slot B's top folders (the sample OS has no files at its root). */
    private static Map<String, String> slotTree(TestRig rig, Path to) throws IOException {
        for (String folder : List.of("boot", "etc", "usr", "resin-boot")) {
            Path dir = Files.createDirectories(to.resolve(folder));
            assertTrue(rig.ports().slots().copyOut("B", folder, dir), folder);
        }
        Map<String, String> tree = TreeSnapshot.of(to);
        assertTrue(tree.containsKey("etc/os-release") && tree.size() > 5, tree.toString());
        return tree;
    }

    @Test
    void deltaIsUsedAndTheSlotHoldsTheSameTreeAsAFullUpdate() throws Exception {
        TestRig rig = rig("used");
        TestRig full = rig.copy(tmp.resolve("full"));
        String image = registry.ref("used:" + V2);
        String delta = registry.ref("used:" + V2 + "-delta-from-" + V1);
        JsonNode made = JSON.readTree(deltaCreate(rig.ref(V1), image, delta).out());

        JsonNode status = update(rig, delta, image).status();
        assertEquals(delta, status.get("source").asText(), Files.readString(logOf(rig)));
        long bytes = status.get("bytesFetched").asLong();
        assertTrue(bytes > 0 && bytes < made.get("targetCompressedBytes").asLong(), "fetched " + bytes);
        assertEquals(List.of(), context(rig).sourceFailures());
        String log = Files.readString(logOf(rig));
        assertTrue(log.contains("fetching delta " + delta), log);

        // the same image from its layout, where no delta is next to it: the full image
        JsonNode fullStatus = update(full, null, rig.ref(V2)).status();
        assertEquals(rig.ref(V2), fullStatus.get("source").asText());
        assertEquals(context(full).manifestDigest(), context(rig).manifestDigest());
        assertEquals(slotTree(full, tmp.resolve("tree-full")), slotTree(rig, tmp.resolve("tree-delta")));

        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertEquals(V2, rig.runningVersion());
        // history names the source and the bytes too
        Run history = io.hupd.testkit.Cli.hupd("history", "--device", rig.deviceDir.toString());
        assertTrue(history.out().contains("fetched from delta " + delta + ": " + bytes + " bytes over the wire"),
                history.out());
    }

    @Test
    void deltaNextToTheImageIsFoundByItsName() throws Exception {
        TestRig rig = rig("named");
        String image = registry.ref("named:" + V2);
        deltaCreate(rig.ref(V1), image, registry.ref("named:" + V2 + "-delta-from-" + V1));

        JsonNode status = update(rig, null, image).status();
        assertEquals(registry.ref("named:" + V2 + "-delta-from-" + V1), status.get("source").asText(),
                Files.readString(logOf(rig)));
        assertEquals(List.of(), context(rig).sourceFailures());
    }

    @Test
    void corruptDeltaIsLoggedAndTheFullImageUsed() throws Exception {
        TestRig rig = rig("corrupt");
        String image = registry.ref("corrupt:" + V2);
        // its own registry: blobs are shared by digest across a registry's repositories, and rigs made in the
        // same second have the same images, so another test's patch could be this one
        LocalRegistry own = LocalRegistry.start(tmp.resolve("own"));
        String delta = own.ref("corrupt:" + V2 + "-delta-from-" + V1);
        try {
            deltaCreate(rig.ref(V1), image, delta);
            corruptPatch(own, "corrupt", V2 + "-delta-from-" + V1);
            JsonNode status = update(rig, delta, image).status();
            assertEquals(image, status.get("source").asText());
        } finally {
            own.stop();
        }
        String failure = context(rig).sourceFailures().get(0);
        assertTrue(failure.startsWith(delta) && failure.contains("digest mismatch"), failure);
        assertFullImageWritten(rig);
    }

    private static void corruptPatch(LocalRegistry r, String repo, String tag) throws Exception {
        JsonNode manifest = manifest(r, repo, tag);
        Path patch = r.blobData(manifest.get("layers").get(0).get("digest").asText());
        try (RandomAccessFile f = new RandomAccessFile(patch.toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 0xff);
        }
    }

    @Test
    void deltaForAnotherSourceVersionIsRefusedAndTheFullImageUsed() throws Exception {
        TestRig rig = rig("other");
        String image = registry.ref("other:" + V2);
        String delta = registry.ref("other:" + V2 + "-delta-from-" + V1);
        // made from another image than the one the device runs
        deltaCreate(rig.ref(TestRig.BROKEN), image, delta);

        JsonNode status = update(rig, null, image).status();
        assertEquals(image, status.get("source").asText());
        String log = Files.readString(logOf(rig));
        assertTrue(log.contains("delta " + delta + " not used") && log.contains("another source version"), log);
        assertFullImageWritten(rig);
    }

    @Test
    void deltaForAnotherTargetIsRefused() throws Exception {
        TestRig rig = rig("target");
        String image = registry.ref("target:" + V2);
        registry.push(rig.ref(TestRig.BROKEN), "target:" + TestRig.BROKEN);
        String delta = registry.ref("target:wrong");
        deltaCreate(rig.ref(V1), registry.ref("target:" + TestRig.BROKEN), delta);

        JsonNode status = update(rig, delta, image).status();
        assertEquals(image, status.get("source").asText());
        String failure = context(rig).sourceFailures().get(0);
        assertTrue(failure.contains("not the target"), failure);
        assertFullImageWritten(rig);
    }

    /**
     * The cache pruned after a delta update keeps what the next delta starts from: the uncompressed layers the
     * first delta made (docs/registry.md, "The cache").
     */
    @Test
    void afterADeltaUpdateTheNextDeltaStillFindsItsSource() throws Exception {
        TestRig rig = rig("chain");
        String next = TestRig.BROKEN;
        registry.push(rig.ref(next), "chain:" + next);
        deltaCreate(rig.ref(V1), registry.ref("chain:" + V2), registry.ref("chain:" + V2 + "-delta-from-" + V1));
        deltaCreate(rig.ref(V2), registry.ref("chain:" + next), registry.ref("chain:" + next + "-delta-from-" + V2));

        assertEquals(registry.ref("chain:" + V2 + "-delta-from-" + V1),
                update(rig, null, registry.ref("chain:" + V2)).status().get("source").asText());
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        try (var files = Files.list(rig.sim.dataDir().resolve("hupd/cache/blobs/sha256"))) {
            assertEquals(List.of(), files.map(p -> p.getFileName().toString())
                    .filter(n -> !n.matches("[0-9a-f]{64}")).toList());
        }

        Run second = io.hupd.testkit.Cli.hupd("update", "--device", rig.deviceDir.toString(), "--target-version",
                next, "--image", registry.ref("chain:" + next), "--json");
        assertEquals(Main.OK, second.code(), second.err());
        assertEquals(registry.ref("chain:" + next + "-delta-from-" + V2), second.status().get("source").asText(),
                Files.readString(logOf(rig)));
    }

    @Test
    void deltaSourceDownFullImageUsed() throws Exception {
        TestRig rig = rig("down");
        String image = registry.ref("down:" + V2);
        LocalRegistry gone = LocalRegistry.start(tmp.resolve("gone"));
        String delta = gone.ref("down:" + V2 + "-delta-from-" + V1);
        deltaCreate(rig.ref(V1), image, delta);
        gone.stop();

        JsonNode status = update(rig, delta, image).status();
        assertEquals(image, status.get("source").asText());
        String failure = context(rig).sourceFailures().get(0);
        assertTrue(failure.startsWith(delta) && failure.contains("connection refused"), failure);
        assertFullImageWritten(rig);
    }

    private void assertFullImageWritten(TestRig rig) throws Exception {
        assertEquals(V2, rig.ports().slots().osRelease("B").get("VERSION_ID"));
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        // nothing of the delta is left in the cache: no patch, no uncompressed layer, no temp file
        try (var files = Files.list(rig.sim.dataDir().resolve("hupd/cache/blobs/sha256"))) {
            List<String> left = files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
            assertEquals(List.of(), left);
        }
    }

    private static JsonNode manifest(LocalRegistry registry, String repo, String tag) throws Exception {
        var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://" + registry.address() + "/v2/" + repo + "/manifests/" + tag))
                .header("Accept", "application/vnd.oci.image.manifest.v1+json").build(),
                java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        return JSON.readTree(r.body());
    }

    private static Path logOf(TestRig rig) throws IOException {
        try (var s = Files.list(rig.sim.dataDir().resolve("balenahup"))) {
            return s.filter(p -> p.toString().endsWith(".log")).findFirst().orElseThrow();
        }
    }
}
