package io.hupd.cli;

import static org.junit.jupiter.api.Assertions.*;
import io.hupd.adapters.sim.SampleOs;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.authoring.OciLayoutWriter;
import io.hupd.runner.DeviceLock;
import io.hupd.testkit.Cli.Run;
import io.hupd.testkit.Cli;
import io.hupd.testkit.TestRig;
import io.hupd.testkit.TreeSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad input through the command line: each is refused with one clear line, the right exit code, and nothing on
 * the device changes (boot partition, state partition, both root slots, the user's data).
 */
class UpdateBadInputTest {
    @TempDir
    Path tmp;
    TestRig rig;
    String dev;

    @BeforeEach
    void setUp() throws Exception {
        rig = TestRig.create(tmp, "uboot");
        dev = rig.deviceDir.toString();
    }

    static Run hupd(String... args) {
        return Cli.hupd(args);
    }

    private Map<String, String> device() throws Exception {
        Map<String, String> m = new TreeMap<>();
        for (String part : new String[] {"boot", "state", "data/user"}) {
            TreeSnapshot.of(rig.deviceDir.resolve(part)).forEach((k, v) -> m.put(part + "/" + k, v));
        }
        for (String img : new String[] {"rootA.img", "rootB.img"}) {
            m.put(img, TreeSnapshot.sha256(Files.readAllBytes(rig.deviceDir.resolve(img))));
        }
        return m;
    }

    private void refused(int code, String messagePart, String... args) throws Exception {
        Map<String, String> before = device();
        Run r = hupd(args);
        assertEquals(code, r.code(), "exit code; stderr: " + r.err());
        String[] lines = r.err().strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("hupd: "), r.err());
        assertTrue(r.err().contains(messagePart), "expected '" + messagePart + "' in: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertEquals(before, device(), "nothing on the device changed");
    }

    @Test
    void malformedTargetVersion() throws Exception {
        refused(2, "Invalid value for option '--target-version': '2.x' is not a version", "update", "--device", dev,
                "--target-version", "2.x",
                "--image", rig.ref(TestRig.V2));
        refused(2, "'2.114.0?; rm -rf /' is not a version", "update", "--device", dev, "--target-version",
                "2.114.0\n; rm -rf /",
                "--image", rig.ref(TestRig.V2));
    }

    @Test
    void downgradeAndSameVersionNeedTheFlag() throws Exception {
        String old = SampleOs.image(tmp.resolve("src2"), tmp.resolve("old"), TestRig.TYPE, "arm64", "2.100.0",
                null, SampleOs.Flaw.NONE);
        refused(1, "is not newer than the running 2.113.4", "update", "--device", dev, "--target-version",
                "2.100.0", "--image", old);
        refused(1, "is not newer", "update", "--device", dev, "--target-version", TestRig.V1,
                "--image", rig.ref(TestRig.V1));
    }

    @Test
    void imageForAnotherDeviceTypeOrArchitecture() throws Exception {
        String other = SampleOs.image(tmp.resolve("src2"), tmp.resolve("o1"), "intel-nuc", "arm64", "2.200.0",
                null, SampleOs.Flaw.NONE);
        refused(1, "intel-nuc, this device is raspberrypi4-64", "update", "--device", dev,
                "--target-version", "2.200.0", "--image", other);
        String amd = SampleOs.image(tmp.resolve("src3"), tmp.resolve("o2"), TestRig.TYPE, "amd64", "2.200.0",
                null, SampleOs.Flaw.NONE);
        refused(1, "architecture amd64, this device is arm64", "update", "--device", dev,
                "--target-version", "2.200.0", "--image", amd);
    }

    /**
     * Makes this test's device fill its slot through a staging folder, or checks that it will not: the refusals
     * of WRITING_ROOTFS run on both ways. Each refused update's log tells which way it took.
     */
    private void stageIn(String staging) throws Exception {
        boolean folder = staging.equals("folder");
        rig.sim.config().withStagingFolder(folder).save(rig.deviceDir);
        assertTrue(folder || io.hupd.adapters.sim.Ext4Image.takesArchives(), "this mke2fs takes no archives");
    }

    private void tookTheWay(String staging) throws Exception {
        Path logs = rig.deviceDir.resolve("data/balenahup");
        String all;
        try (var s = Files.list(logs)) {
            all = s.map(p -> {
                try {
                    return Files.readString(p);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).reduce("", String::concat);
        }
        assertEquals(staging.equals("layer"), all.contains("mke2fs will fill slot B from it"), all);
    }

    @ParameterizedTest
    @ValueSource(strings = {"layer", "folder"})
    void targetVersionDifferentFromTheImage(String staging) throws Exception {
        stageIn(staging);
        refused(1, "holds version 2.114.0, not the target 2.300.0", "update", "--device", dev,
                "--target-version", "2.300.0", "--image", rig.ref(TestRig.V2));
        tookTheWay(staging);
    }

    @Test
    void missingOrBrokenSources() throws Exception {
        refused(1, "no image source answers", "update", "--device", dev, "--target-version", "2.114.0",
                "--image", "oci:" + tmp.resolve("nowhere") + ":2.114.0");
        refused(1, "2.999.0", "update", "--device", dev, "--target-version", "2.114.0",
                "--image", "oci:" + tmp.resolve("images") + ":2.999.0");
        Files.writeString(tmp.resolve("images/index.json"), "{ garbage");
        refused(1, "index.json", "update", "--device", dev, "--target-version", "2.114.0",
                "--image", rig.ref(TestRig.V2));
        refused(2, "Invalid value for option '--image'", "update", "--device", dev, "--target-version", "2.114.0",
                "--image", "not-a-ref");
    }

    @ParameterizedTest
    @ValueSource(strings = {"layer", "folder"})
    void imageWithoutOsRelease(String staging) throws Exception {
        stageIn(staging);
        Path rootfs = tmp.resolve("bare");
        Files.createDirectories(rootfs.resolve("boot"));
        Files.writeString(rootfs.resolve("boot/init"), "kernel\n");
        refused(1, "no /etc/os-release", "update", "--device", dev, "--target-version", "2.200.0",
                "--image", packedByUmoci(rootfs, "bare-layout"));
        tookTheWay(staging);
    }

    @ParameterizedTest
    @ValueSource(strings = {"layer", "folder"})
    void anOsReleaseTooLargeToBeOne(String staging) throws Exception {
        stageIn(staging);
        Path rootfs = tmp.resolve("padded");
        Files.createDirectories(rootfs.resolve("boot"));
        Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(rootfs.resolve("boot/init"), "kernel\n");
        Files.writeString(rootfs.resolve("etc/os-release"), "VERSION_ID=2.200.0\nBALENA_DEVICE_TYPE=" + TestRig.TYPE
                + "\n" + "# padding\n".repeat(7000));
        refused(1, "/etc/os-release is larger than 64 KiB", "update", "--device", dev, "--target-version", "2.200.0",
                "--image", packedByUmoci(rootfs, "padded-layout"));
        tookTheWay(staging);
    }

    /** A one-layer image of the folder as it is, packed by the real umoci (OciLayoutWriter would add os-release). */
    private String packedByUmoci(Path rootfs, String name) throws Exception {
        Path layout = tmp.resolve(name);
        io.hupd.fs.Commands.check(java.util.List.of("umoci", "init", "--layout", layout.toString()),
                java.time.Duration.ofSeconds(30));
        io.hupd.fs.Commands.check(java.util.List.of("umoci", "new", "--image", layout + ":base"),
                java.time.Duration.ofSeconds(30));
        io.hupd.fs.Commands.check(java.util.List.of("umoci", "insert", "--image", layout + ":base", "--tag",
                "2.200.0", rootfs.toString(), "/"), java.time.Duration.ofSeconds(30));
        io.hupd.fs.Commands.check(java.util.List.of("umoci", "config", "--image", layout + ":2.200.0",
                "--architecture", "arm64", "--os", "linux"), java.time.Duration.ofSeconds(30));
        return "oci:" + layout + ":2.200.0";
    }

    @Test
    void bootSettingsThatDoNotParseOrDoNotNameTheActiveRoot() throws Exception {
        Path env = rig.sim.bootDir().resolve("resinOS_uEnv.txt");
        String good = Files.readString(env);
        Files.writeString(env, "resin_root_part=zz\nupgrade_available=0\n");
        refused(1, "boot settings cannot be read", "update", "--device", dev, "--target-version", TestRig.V2,
                "--image", rig.ref(TestRig.V2));
        Files.writeString(env, good.replace("resin_root_part=2", "resin_root_part=3"));
        refused(1, "the running root is slot A", "update", "--device", dev, "--target-version", TestRig.V2,
                "--image", rig.ref(TestRig.V2));
    }

    @Test
    void runningOsTooOld() throws Exception {
        Path old = tmp.resolve("old-device");
        String ref = SampleOs.image(tmp.resolve("src4"), tmp.resolve("old-images"), TestRig.TYPE, "arm64",
                "2.12.0", null, SampleOs.Flaw.NONE);
        assertEquals(0, hupd("device", "create", "--dir", old.toString(), "--image", ref, "--root-size", "16M",
                "--boot-size", "4M").code());
        Run r = hupd("update", "--device", old.toString(), "--target-version", TestRig.V2, "--image",
                rig.ref(TestRig.V2));
        assertEquals(1, r.code());
        assertTrue(r.err().contains("too old to be updated (needs >= 2.14.0)"), r.err());
    }

    private String imageWith(String version, String file, int bytes) throws Exception {
        Path root = tmp.resolve("big-" + version);
        SampleOs.writeRootfs(root, version, null, SampleOs.Flaw.NONE);
        Files.createDirectories(root.resolve(file).getParent());
        Files.write(root.resolve(file), new byte[bytes]);
        OciLayoutWriter.write(root, new ImageSpec(version, TestRig.TYPE, "arm64", Optional.empty()),
                tmp.resolve("big"), version);
        return "oci:" + tmp.resolve("big") + ":" + version;
    }

    @ParameterizedTest
    @ValueSource(strings = {"layer", "folder"})
    void aRootFilesystemThatDoesNotFitTheSpareSlot(String staging) throws Exception {
        stageIn(staging);
        String ref = imageWith("2.200.0", "usr/share/huge.bin", 20 << 20);
        refused(1, "does not fit in slot B (16 MiB)", "update", "--device", dev, "--target-version", "2.200.0",
                "--image", ref);
        assertTrue(rig.ports().supervisor().isRunning());
        tookTheWay(staging);
    }

    @ParameterizedTest
    @ValueSource(strings = {"layer", "folder"})
    void bootFilesThatWouldLeaveLessThan512KiBFree(String staging) throws Exception {
        stageIn(staging);
        // The rig's boot partition is 4 MiB; 3.6 MiB of new boot files would leave less than 512 KiB.
        String ref = imageWith("2.200.0", "resin-boot/firmware.bin", 3600 * 1024);
        refused(1, "not enough space on the boot partition", "update", "--device", dev, "--target-version",
                "2.200.0", "--image", ref);
        tookTheWay(staging);
    }

    @Test
    void badCommandLinesExit2() throws Exception {
        refused(2, "Unknown option", "update", "--device", dev, "--target-version", TestRig.V2,
                "--image", rig.ref(TestRig.V2), "--frobnicate");
        refused(2, "--target-version", "update", "--device", dev, "--image", rig.ref(TestRig.V2));
        refused(2, "hupd: ", "no-such-command");
        refused(2, "--health-count", "device", "create", "--dir", tmp.resolve("x").toString(), "--image", "oci:y",
                "--health-count", "many");
        refused(1, "no image source", "update", "--device", dev, "--target-version", TestRig.V2);
    }

    @Test
    void notADevice() throws Exception {
        Run r = hupd("status", "--device", tmp.resolve("nothing").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("is not a simulated device"), r.err());
    }

    @Test
    void secondUpdateWhileOneHoldsTheLockExits9() throws Exception {
        try (DeviceLock held = DeviceLock.tryAcquire(rig.deviceDir.resolve("data/hupd/lock")).orElseThrow()) {
            refused(9, "holds this device's lock", "update", "--device", dev, "--target-version", TestRig.V2,
                    "--image", rig.ref(TestRig.V2));
        }
    }

    @Test
    void deviceCreateRefusesBadInputAndLeavesNoHalfDevice() throws Exception {
        Path d = tmp.resolve("new");
        Run r = hupd("device", "create", "--dir", d.toString(), "--image", rig.ref(TestRig.V1), "--bootloader", "lilo");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown bootloader 'lilo'"), r.err());
        assertFalse(Files.exists(d.resolve("device.json")));
        r = hupd("device", "create", "--dir", rig.deviceDir.toString(), "--image", rig.ref(TestRig.V1));
        assertEquals(1, r.code());
        assertTrue(r.err().contains("is not empty"), r.err());
        r = hupd("device", "create", "--dir", d.toString(), "--image", rig.ref(TestRig.V1), "--root-size", "lots");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is not a size"), r.err());
    }

    @Test
    void imageCreateRefusesBadInput() throws Exception {
        Run r = hupd("image", "create", "--rootfs", tmp.resolve("none").toString(), "--version", "2.1.0",
                "--device-type", "x", "--output", "oci:" + tmp.resolve("l") + ":t");
        assertEquals(1, r.code());
        r = hupd("image", "create", "--rootfs", tmp.toString(), "--version", "two", "--device-type", "x",
                "--output", "oci:" + tmp.resolve("l") + ":t");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is not a version"), r.err());
        OciLayoutWriter.write(rig.root.resolve("src/rootfs-" + TestRig.V1), new ImageSpec("2.113.5", "t", "arm64",
                Optional.empty()), tmp.resolve("ok"), "ok");
    }
}
