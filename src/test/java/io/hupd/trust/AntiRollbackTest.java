package io.hupd.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.adapters.sim.SampleOs;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.authoring.OciLayoutWriter;
import io.hupd.machine.UpdateState;
import io.hupd.runner.UpdateRequest;
import io.hupd.steps.SecurityFloor;
import io.hupd.testkit.TestRig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The anti-rollback floor: kept in the state partition, raised only on commit, never bypassed by options. */
class AntiRollbackTest {
    @TempDir
    Path tmp;

    private static String image(Path tmp, String version, long securityVersion, SampleOs.Flaw flaw)
            throws Exception {
        Path root = tmp.resolve("rootfs-" + version + "-" + securityVersion);
        SampleOs.writeRootfs(root, version, "14.1.0", flaw);
        Path layout = tmp.resolve("signed-images");
        String tag = version + "-sv" + securityVersion;
        OciLayoutWriter.write(root, new ImageSpec(version, TestRig.TYPE, "arm64", Optional.of("14.1.0"),
                Optional.of(securityVersion)), layout, tag);
        return "oci:" + layout + ":" + tag;
    }

    private static UpdateState update(TestRig rig, String version, String ref, boolean requireUpgrade)
            throws Exception {
        return rig.service(rig.ports()).update(new UpdateRequest(version, List.of(ref), null, requireUpgrade, true));
    }

    private static long floor(TestRig rig) throws Exception {
        return SecurityFloor.read(rig.ports().state());
    }

    @Test
    void theFloorRisesOnlyOnCommitAndARollbackBeforeItStillBringsTheOldOsBack() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        String broken = image(tmp, TestRig.BROKEN, 7, SampleOs.Flaw.BROKEN_ENGINE);
        String good = image(tmp, TestRig.V2, 7, SampleOs.Flaw.NONE);
        assertEquals(0, floor(rig));

        assertEquals(UpdateState.REBOOTING, update(rig, TestRig.BROKEN, broken, true));
        assertEquals(0, floor(rig), "staged, not committed: the floor has not moved");
        rig.powerOnUntilSettled();
        assertEquals("ROLLED_BACK_HEALTH", rig.state());
        assertEquals(TestRig.V1, rig.runningVersion());
        assertEquals(0, floor(rig), "a rollback before the commit leaves the floor where it was");

        assertEquals(UpdateState.REBOOTING, update(rig, TestRig.V2, good, true));
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertEquals(7, floor(rig));
        assertEquals("7\n", Files.readString(rig.sim.stateDir().resolve(SecurityFloor.FILE)));
    }

    @Test
    void belowTheFloorIsRefusedEvenWithNoRequireUpgradeAndChangesNothing() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "grub");
        Files.writeString(rig.sim.stateDir().resolve(SecurityFloor.FILE), "5\n");
        String rootB = io.hupd.testkit.TreeSnapshot.sha256(Files.readAllBytes(rig.deviceDir.resolve("rootB.img")));
        String old = image(tmp, TestRig.V2, 4, SampleOs.Flaw.NONE);

        assertEquals(UpdateState.FAILED, update(rig, TestRig.V2, old, false));
        String reason = rig.store().load().orElseThrow().context().reason();
        assertTrue(reason.contains("security version 4 is below this device's anti-rollback floor 5"), reason);
        assertTrue(rig.trace().contains("PREFLIGHT -FAILED-> FAILED"), rig.trace().toString());
        assertEquals(rootB, io.hupd.testkit.TreeSnapshot.sha256(Files.readAllBytes(
                rig.deviceDir.resolve("rootB.img"))));
        assertTrue(rig.ports().supervisor().isRunning());

        // An image with no security version at all counts as 0: below any floor.
        assertEquals(UpdateState.FAILED, update(rig, TestRig.V2, rig.ref(TestRig.V2), false));
        assertEquals(5, floor(rig));
    }

    @Test
    void theFloorSurvivesALostDatabase() throws Exception {
        TestRig rig = TestRig.create(tmp.resolve("rig"), "uboot");
        assertEquals(UpdateState.REBOOTING, update(rig, TestRig.V2, image(tmp, TestRig.V2, 3, SampleOs.Flaw.NONE),
                true));
        rig.powerOnUntilSettled();
        assertEquals(3, floor(rig));
        for (String f : List.of("state.mv.db", "state.trace.db")) {
            Files.deleteIfExists(rig.sim.dataDir().resolve("hupd").resolve(f));
        }
        rig.powerOnUntilSettled();
        assertEquals(3, floor(rig));
        assertEquals(UpdateState.FAILED, update(rig, TestRig.V2, image(tmp, TestRig.V2, 2, SampleOs.Flaw.NONE),
                false));
        assertTrue(rig.store().load().orElseThrow().context().reason().contains("anti-rollback floor 3"));
    }
}
