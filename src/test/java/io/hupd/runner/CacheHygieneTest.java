package io.hupd.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.image.fetch.ImageSources;
import io.hupd.machine.UpdateState;
import io.hupd.testkit.Faults;
import io.hupd.testkit.TestRig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A device that updates for years must not fill its data partition with blob cache: each way an update ends
 * leaves the cache as docs/registry.md ("The cache") says.
 */
class CacheHygieneTest {
    /** Another image's interrupted download, which no update will resume. */
    private static final String STRAY_PARTIAL = ".partial-" + "ab".repeat(32);

    @TempDir
    Path tmp;
    TestRig rig;

    @BeforeEach
    void rig() throws Exception {
        rig = TestRig.create(tmp, "uboot");
        Files.write(sha().resolve(STRAY_PARTIAL), new byte[] {1, 2, 3});
        Files.write(sha().resolve(".tmp-" + "cd".repeat(32) + "-7"), new byte[] {4});
    }

    private Path sha() {
        return rig.sim.dataDir().resolve("hupd/cache/blobs/sha256");
    }

    private Set<String> cached() throws IOException {
        try (Stream<Path> s = Files.list(sha())) {
            Set<String> out = new TreeSet<>();
            s.forEach(p -> out.add(p.getFileName().toString()));
            return out;
        }
    }

    private Set<String> blobsOf(String... versions) throws IOException {
        Set<String> out = new TreeSet<>();
        for (String v : versions) {
            ImageSources.open(rig.ref(v)).resolve().blobs().forEach(d -> out.add(d.hex()));
        }
        return out;
    }

    @Test
    void aCommittedUpdateLeavesOnlyTheNewOsInTheCache() throws Exception {
        assertEquals(UpdateState.REBOOTING, rig.update(TestRig.V2));
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertEquals(blobsOf(TestRig.V2), cached());
        assertTrue(rig.output().contains("cache pruned: "), rig.output());
    }

    @Test
    void aRollbackLeavesOnlyTheRunningOsInTheCache() throws Exception {
        rig.update(TestRig.BROKEN);
        rig.powerOnUntilSettled();
        assertEquals("ROLLED_BACK_HEALTH", rig.state());
        assertEquals(blobsOf(TestRig.V1), cached());
    }

    @Test
    void aRevertKeepsTheTargetForTheRetryWhichFetchesNothing() throws Exception {
        rig.steps = Faults.at(UpdateState.WRITING_ROOTFS, Faults.Kind.FAIL, 1);
        assertEquals(UpdateState.FAILED, rig.update(TestRig.V2));
        Set<String> both = blobsOf(TestRig.V1, TestRig.V2);
        assertEquals(both, cached());

        assertEquals(UpdateState.REBOOTING, rig.update(TestRig.V2));
        assertEquals(0, rig.store().load().orElseThrow().context().bytesFetched());
    }

    @Test
    void aCacheThatCannotBePrunedDoesNotStopTheCommit() throws Exception {
        rig.update(TestRig.V2);
        // the running image's record cannot be written where a folder is in the way
        Path record = rig.sim.dataDir().resolve("hupd/cache/running-image.json");
        Files.delete(record);
        Files.createDirectories(record.resolve("in-the-way"));
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertEquals(TestRig.V2, rig.runningVersion());
        assertTrue(rig.output().contains("the blob cache was not pruned (the update is not affected)"),
                rig.output());
    }
}
