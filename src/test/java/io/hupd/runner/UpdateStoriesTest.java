package io.hupd.runner;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.adapters.sim.Ext4Image;
import io.hupd.adapters.sim.SimDevice;
import io.hupd.fs.Commands;
import io.hupd.machine.UpdateState;
import io.hupd.ports.BootSettings;
import io.hupd.ports.StatePartition;
import io.hupd.testkit.TestRig;
import io.hupd.testkit.TreeSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The three stories of the demo, on each bootloader flavour, checked against the ground truth on disk. */
class UpdateStoriesTest {
    @TempDir
    Path tmp;

    /**
     * The boot partition's files but the bootloader's own (compared by their values instead: the binary U-Boot
     * env's copy counter rightly moves on with every write).
     */
    private static Map<String, String> bootFiles(TestRig rig) throws Exception {
        Map<String, String> files = new java.util.TreeMap<>(TreeSnapshot.of(rig.sim.bootDir()));
        files.keySet().removeAll(io.hupd.ports.BootFilePolicy.BALENA.bootloaderOwned());
        return files;
    }

    @ParameterizedTest
    @ValueSource(strings = {"uboot", "grub", "uboot-env"})
    void healthyUpdateIsCommitted(String bootloader) throws Exception {
        TestRig rig = TestRig.create(tmp, bootloader);
        assertEquals(UpdateState.REBOOTING, rig.update(TestRig.V2));
        // Before the reboot: the settings name the new root on trial, the old OS still runs.
        BootSettings trial = rig.sim.bootloader().read();
        assertEquals(new BootSettings(3, true, 0), trial);
        assertEquals(TestRig.V1, rig.runningVersion());
        assertEquals(List.of(StatePartition.HEALTH_BREADCRUMB, StatePartition.ALTBOOT_BREADCRUMB),
                rig.sim.state().breadcrumbs());

        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertEquals(TestRig.V2, rig.runningVersion());
        assertEquals(new BootSettings(3, false, 0), rig.sim.bootloader().read());
        assertEquals(List.of(), rig.sim.state().breadcrumbs());
        assertEquals("user data\n", Files.readString(rig.deviceDir.resolve("data/user/notes.txt")));
        assertEquals(List.of("IDLE -START-> LOCKED", "LOCKED -SUCCEEDED-> PREFLIGHT",
                "PREFLIGHT -SUCCEEDED-> STOPPING_SUPERVISOR", "STOPPING_SUPERVISOR -SUCCEEDED-> FETCHING",
                "FETCHING -SUCCEEDED-> WRITING_ROOTFS", "WRITING_ROOTFS -SUCCEEDED-> UPDATING_BOOT_FILES",
                "UPDATING_BOOT_FILES -SUCCEEDED-> UPDATING_SUPERVISOR",
                "UPDATING_SUPERVISOR -SUCCEEDED-> ARMING_ROLLBACKS", "ARMING_ROLLBACKS -SUCCEEDED-> SWITCHING_BOOT",
                "SWITCHING_BOOT -SUCCEEDED-> REBOOTING", "REBOOTING -BOOTED-> CHECKING_ALTBOOT",
                "CHECKING_ALTBOOT -SUCCEEDED-> HEALTH_CHECKING", "HEALTH_CHECKING -SUCCEEDED-> COMMITTING",
                "COMMITTING -SUCCEEDED-> COMMITTED"), rig.trace());
        // The new boot files are in place; the user's config.json was kept back.
        assertEquals(TestRig.V2 + "\n", Files.readString(rig.sim.bootDir().resolve("os-version")));
        assertTrue(Files.readString(rig.sim.bootDir().resolve("config.json")).contains("deviceType"));
        // The supervisor shipped with the new OS is newer, so it was updated, and it runs.
        assertEquals("14.1.0", rig.ports().supervisor().version().orElseThrow());
        assertTrue(rig.ports().supervisor().isRunning());
    }

    /** Both ways of filling the slot: mke2fs from the layer itself, and through a staging folder. */
    @ParameterizedTest
    @CsvSource({"uboot,layer", "uboot,folder", "grub,layer", "grub,folder", "uboot-env,layer", "uboot-env,folder"})
    void writtenSlotIsACleanExt4ThatTheRealToolsRead(String bootloader, String staging) throws Exception {
        boolean folder = staging.equals("folder");
        TestRig rig = TestRig.create(tmp, bootloader, c -> c.withStagingFolder(folder));
        assertEquals(UpdateState.REBOOTING, rig.update(TestRig.V2));
        assertEquals(!folder, rig.output().contains("writing slot B from the layer"), rig.output());
        Path slot = rig.deviceDir.resolve("rootB.img");
        assertEquals(0, Commands.run(List.of("e2fsck", "-fn", slot.toString()), Duration.ofSeconds(30)).exitCode());
        String osRelease = Commands.check(List.of("debugfs", "-R", "cat /etc/os-release", slot.toString()),
                Duration.ofSeconds(30)).out();
        assertTrue(osRelease.contains("VERSION_ID=" + TestRig.V2), osRelease);
        assertEquals("resin-rootB", new Ext4Image(slot).label());
        if (bootloader.equals("grub")) {
            Path env = Files.exists(rig.sim.bootDir().resolve("EFI/BOOT/grubenv"))
                    ? rig.sim.bootDir().resolve("EFI/BOOT/grubenv") : rig.sim.bootDir().resolve("grub/grubenv");
            String listed = Commands.check(List.of("grub-editenv", env.toString(), "list"), Duration.ofSeconds(10)).out();
            assertTrue(listed.contains("resin_root_part=3"), listed);
            assertTrue(listed.contains("upgrade_available=1"), listed);
            assertEquals(1024, Files.size(env));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"uboot", "grub", "uboot-env"})
    void brokenEngineIsRolledBackByHealthWithTheReasonKept(String bootloader) throws Exception {
        TestRig rig = TestRig.create(tmp, bootloader);
        Map<String, String> bootBefore = bootFiles(rig);
        assertEquals(UpdateState.REBOOTING, rig.update(TestRig.BROKEN));
        assertNotEquals(bootBefore, bootFiles(rig));
        rig.powerOnUntilSettled();

        assertEquals("ROLLED_BACK_HEALTH", rig.state());
        assertEquals(TestRig.V1, rig.runningVersion());
        assertEquals(new BootSettings(2, false, 0), rig.sim.bootloader().read());
        assertEquals(List.of(), rig.sim.state().breadcrumbs());
        assertEquals(List.of(StatePartition.HEALTH_TRIGGERED), rig.sim.state().markers());
        String marker = rig.sim.state().read(StatePartition.HEALTH_TRIGGERED).orElseThrow();
        assertTrue(marker.contains("engine") && marker.contains("/dev/null"), marker);
        assertEquals(bootBefore, bootFiles(rig), "boot partition restored byte for byte");
        String reason = rig.store().load().orElseThrow().context().reason();
        assertTrue(reason.contains("engine"), reason);
        assertEquals("engine", rig.store().load().orElseThrow().context().failedCheck());
        // The update's log file keeps the story, reason included.
        Path log = rig.deviceDir.resolve("data/balenahup/" + rig.store().load().orElseThrow().context().updateId() + ".log");
        assertTrue(Files.readString(log).contains("ROLLING_BACK_HEALTH"), "log file " + log);
        assertEquals("user data\n", Files.readString(rig.deviceDir.resolve("data/user/notes.txt")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"uboot", "grub", "uboot-env"})
    void unbootableOsIsRolledBackByAltboot(String bootloader) throws Exception {
        TestRig rig = TestRig.create(tmp, bootloader);
        Map<String, String> bootBefore = bootFiles(rig);
        rig.update(TestRig.UNBOOTABLE);
        int limit = rig.sim.bootloader().bootLimit();
        // Each power-on of the new root is a failed boot until the bootloader falls back on the next one.
        for (int i = 0; i < limit; i++) {
            assertNull(rig.powerOn(), "power-on " + (i + 1) + " should reset in the unbootable root");
        }
        assertEquals("A", rig.powerOn(), "the bootloader falls back to the old root after " + limit + " failed boots");
        assertEquals("ROLLED_BACK_ALTBOOT", rig.state());
        rig.powerOnUntilSettled();
        assertEquals("ROLLED_BACK_ALTBOOT", rig.state());
        assertEquals(TestRig.V1, rig.runningVersion());
        assertEquals(new BootSettings(2, false, 0), rig.sim.bootloader().read());
        assertEquals(List.of(StatePartition.ALTBOOT_TRIGGERED), rig.sim.state().markers());
        assertEquals(bootBefore, bootFiles(rig), "boot partition restored byte for byte");
    }

    /** A root whose filesystem a kernel would not mount (here: its group descriptors damaged) does not boot. */
    @ParameterizedTest
    @ValueSource(strings = {"uboot", "grub"})
    void slotDamagedAfterItsSwitchIsRolledBackByAltboot(String bootloader) throws Exception {
        TestRig rig = TestRig.create(tmp, bootloader);
        assertEquals(UpdateState.REBOOTING, rig.update(TestRig.V2));
        Path slot = rig.deviceDir.resolve("rootB.img");
        assertNull(new Ext4Image(slot).whyNotMountable());
        try (var ch = java.nio.channels.FileChannel.open(slot, java.nio.file.StandardOpenOption.WRITE)) {
            // two bytes of where the first group's inode bitmap lies: e2fsck would repair it, a kernel refuses it
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0x5a, 0x5a}), descriptorOffset(slot) + 4);
        }
        assertTrue(new Ext4Image(slot).whyNotMountable().startsWith("group 0: "), new Ext4Image(slot).whyNotMountable());
        int limit = rig.sim.bootloader().bootLimit();
        for (int i = 0; i < limit; i++) {
            SimDevice.PowerOn on = rig.sim.powerOn();
            assertFalse(on.osUp(), "power-on " + (i + 1) + " should reset in the damaged root");
            assertTrue(on.detail().contains("not a valid ext4 filesystem"), on.detail());
        }
        rig.powerOnUntilSettled();
        assertEquals("ROLLED_BACK_ALTBOOT", rig.state());
        assertEquals(TestRig.V1, rig.runningVersion());
    }

    /** Where the first group descriptor of an ext4 image starts: the block after the one holding the superblock. */
    private static long descriptorOffset(Path image) throws Exception {
        byte[] sb = new byte[1024];
        try (var in = Files.newInputStream(image)) {
            in.skipNBytes(1024);
            in.readNBytes(sb, 0, 1024);
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(sb).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long blockSize = 1024L << b.getInt(0x18);
        return (b.getInt(0x14) + 1) * blockSize;
    }

    @ParameterizedTest
    @ValueSource(strings = {"uboot", "grub", "uboot-env"})
    void afterARollbackTheNextUpdateWorks(String bootloader) throws Exception {
        TestRig rig = TestRig.create(tmp, bootloader);
        rig.update(TestRig.BROKEN);
        rig.powerOnUntilSettled();
        assertEquals(UpdateState.REBOOTING, rig.update(TestRig.V2));
        rig.powerOnUntilSettled();
        assertEquals("COMMITTED", rig.state());
        assertEquals(TestRig.V2, rig.runningVersion());
        assertEquals(List.of(), rig.sim.state().markers(), "old result markers are cleared by the next update");
    }
}
