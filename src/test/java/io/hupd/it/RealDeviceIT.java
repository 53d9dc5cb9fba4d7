package io.hupd.it;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.image.fsimage.FsImageWriter;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.testkit.LoopDisk;
import io.hupd.testkit.TestRig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hupd on a real device: a GPT disk on a loop device, driven through the launcher ({@code ./hupd}) with
 * {@code --device-config}. The update writes root B, the boot files and the boot settings, and nothing of the
 * running root A or of the user's files in the data partition; {@code hupd boot} then commits when the kernel
 * came up from root B and rolls back (altboot) when it came up from A again. Bad configs, missing partitions, a
 * mounted spare root and a bootloader tool that fails or lies end in a one-line error with the device unchanged.
 */
class RealDeviceIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
        JsonNode json() throws Exception {
            return JSON.readTree(out.substring(out.indexOf('{')));
        }
    }

    /** The launcher at its default flags; {@code pathFirst} goes in front of PATH (fake bootloader tools). */
    static Run hupd(Path pathFirst, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("./hupd"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (pathFirst != null) {
            pb.environment().put("PATH", pathFirst + ":" + System.getenv("PATH"));
        }
        Path out = Files.createTempFile("hupd-it", ".out");
        Path err = Files.createTempFile("hupd-it", ".err");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            assertTrue(p.waitFor(300, TimeUnit.SECONDS), "hupd " + String.join(" ", args) + " hung");
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static Run hupd(String... args) throws Exception {
        return hupd(null, args);
    }

    private static void ok(Run r, String what) {
        assertEquals(0, r.code(), what + " failed:\n" + r.out() + r.err());
    }

    private static void failsCleanly(Run r, String what, String words) {
        assertEquals(1, r.code(), what + " should fail:\n" + r.out() + r.err());
        String err = r.err().strip();
        assertTrue(err.startsWith("hupd: "), what + ": " + err);
        assertTrue(err.contains(words), what + ": expected '" + words + "' in: " + err);
    }

    @Test
    void anUpdateWritesTheSpareRootAndTheBootSettingsOnlyThenBootFromRootBCommits() throws Exception {
        try (LoopDisk disk = LoopDisk.create(tmp, "uboot")) {
            String cfg = disk.config.toString();
            Run check = hupd("device", "check", "--device-config", cfg, "--json");
            ok(check, "device check");
            JsonNode c = check.json();
            assertEquals("A", c.at("/running/slot").asText(), check.out());
            assertTrue(c.at("/running/how").asText().contains("root=PARTLABEL=" + disk.label("rootA")), check.out());
            assertEquals(disk.node("rootB"), c.at("/partitions/rootB/node").asText());
            assertEquals(3, c.at("/partitions/rootB/number").asInt());
            assertEquals(disk.stateMount.toString(), c.at("/partitions/state/mountedOn/0").asText());
            assertEquals(2, c.at("/bootloader/rootPartition").asInt());
            assertTrue(c.at("/bootloader/via").asText().startsWith("mtools on " + disk.node("boot")), check.out());
            assertEquals("active", c.at("/supervisor/state").asText());
            Run text = hupd("device", "check", "--device-config", cfg);
            ok(text, "device check (text)");
            assertTrue(text.out().contains("running root: A"), text.out());

            Map<String, String> before = disk.untouchables();
            String userConfig = disk.bootFile("config.json");
            Run up = hupd("update", "--device-config", cfg, "--target-version", LoopDisk.V2, "--image", disk.v2Ref);
            ok(up, "update");
            assertEquals(before, disk.untouchables(), "the running root or the user's files changed");
            assertEquals(userConfig, disk.bootFile("config.json"), "the user's config.json was touched");
            String uEnv = disk.bootFile("resinOS_uEnv.txt");
            assertTrue(uEnv.contains("resin_root_part=3"), uEnv);
            assertTrue(uEnv.contains("upgrade_available=1"), uEnv);
            assertTrue(disk.bootFile("os-version").contains(LoopDisk.V2), "the new OS's boot files");
            String rootB = LoopDisk.run("debugfs", "-R", "cat /etc/os-release", disk.node("rootB"));
            assertTrue(rootB.contains("VERSION_ID=" + LoopDisk.V2), rootB);
            LoopDisk.run("e2fsck", "-fn", disk.node("rootB"));
            List<String> calls = Files.readAllLines(disk.systemctlLog);
            assertTrue(calls.contains("stop balena-supervisor.service"), calls.toString());
            assertTrue(calls.contains("reboot"), calls.toString());
            assertTrue(calls.contains("reboot --force --force"), "the reboot 'hung': " + calls);

            Run status = hupd("status", "--device-config", cfg, "--json");
            ok(status, "status");
            assertEquals("REBOOTING", status.json().get("state").asText(), status.out());

            disk.bootedFrom("B"); // the firmware booted the new root
            Run boot = hupd("boot", "--device-config", cfg, "--json");
            ok(boot, "boot");
            assertEquals("COMMITTED", boot.json().get("state").asText(), boot.out());
            uEnv = disk.bootFile("resinOS_uEnv.txt");
            assertTrue(uEnv.contains("resin_root_part=3") && uEnv.contains("upgrade_available=0"), uEnv);
            assertEquals(before, disk.untouchables(), "the old root or the user's files changed after the commit");
            Run history = hupd("history", "--device-config", cfg);
            ok(history, "history");
            assertTrue(history.out().contains("COMMITTED"), history.out());
        }
    }

    @Test
    void aFilesystemImageIsStreamedIntoTheSpareRootPartition() throws Exception {
        try (LoopDisk disk = LoopDisk.create(tmp, "uboot")) {
            Path layout = disk.dir.resolve("images");
            FsImageWriter.write(disk.dir.resolve("src").resolve("rootfs-" + LoopDisk.V2), new ImageSpec(LoopDisk.V2,
                    TestRig.TYPE, "arm64", Optional.of("14.1.0")), layout, "fs", 8L << 20);
            Map<String, String> before = disk.untouchables();
            Run up = hupd("update", "--device-config", disk.config.toString(), "--target-version", LoopDisk.V2,
                    "--image", "oci:" + layout + ":fs");
            ok(up, "update from a filesystem image");
            assertEquals(before, disk.untouchables(), "the running root or the user's files changed");
            String rootB = LoopDisk.run("debugfs", "-R", "cat /etc/os-release", disk.node("rootB"));
            assertTrue(rootB.contains("VERSION_ID=" + LoopDisk.V2), rootB);
            LoopDisk.run("e2fsck", "-fn", disk.node("rootB"));
            String uEnv = disk.bootFile("resinOS_uEnv.txt");
            assertTrue(uEnv.contains("resin_root_part=3"), uEnv);
        }
    }

    /**
     * The daemon's status page reads the device about once a second during an update; each reading used to probe
     * every partition with blkid (a fifth of a slow board's CPU, taken from the update). Now the probe is reused
     * while the kernel's view of the disks is unchanged.
     */
    @Test
    void theDaemonProbesTheDisksOnceNotAtEveryReadingOfItsStatusPage() throws Exception {
        try (LoopDisk disk = LoopDisk.create(tmp, "uboot")) {
            Path counting = Files.createDirectories(tmp.resolve("counting"));
            Path probes = tmp.resolve("blkid.calls");
            String realBlkid = LoopDisk.run("sh", "-c", "command -v blkid").strip();
            Path wrapper = counting.resolve("blkid");
            Files.writeString(wrapper, "#!/bin/sh\necho \"$*\" >> '" + probes + "'\nexec '" + realBlkid + "' \"$@\"\n");
            Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path settings = tmp.resolve("hupd.json");
            Files.writeString(settings, "{\"statusPort\": 0, \"deviceConfig\": \"" + disk.config + "\"}\n");
            ProcessBuilder pb = new ProcessBuilder("./hupd", "daemon", "--config", settings.toString());
            pb.environment().put("PATH", counting + ":" + System.getenv("PATH"));
            Path daemonOut = tmp.resolve("daemon.out");
            Process daemon = pb.redirectErrorStream(true).redirectOutput(daemonOut.toFile()).start();
            try {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!Files.readString(daemonOut).contains("listening on")) {
                    assertTrue(daemon.isAlive() && System.nanoTime() < end, "the daemon did not start: "
                            + Files.readString(daemonOut));
                    Thread.sleep(100);
                }
                ok(hupd("update", "--device-config", disk.config.toString(), "--target-version", LoopDisk.V2,
                        "--image", disk.v2Ref, "--no-reboot"), "update through the daemon");
                assertTrue(Files.readString(daemonOut).contains("update to " + LoopDisk.V2 + " requested by"),
                        "the update did not go through the daemon: " + Files.readString(daemonOut));
                Thread.sleep(1500); // the page reads the device again after the update's last write
                long calls = Files.readAllLines(probes).size();
                assertTrue(calls <= 3, "blkid ran " + calls + " times in one daemon for one update");
            } finally {
                daemon.destroy();
                daemon.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void onGrubABootFromTheOldRootIsRollbackAltbootAndCleanShutdownResetsTheTrialCount() throws Exception {
        try (LoopDisk disk = LoopDisk.create(tmp, "grub")) {
            String cfg = disk.config.toString();
            Map<String, String> before = disk.untouchables();
            ok(hupd("update", "--device-config", cfg, "--target-version", LoopDisk.V2, "--image", disk.v2Ref,
                    "--no-reboot"), "update");
            Path env = tmp.resolve("grubenv");
            Files.writeString(env, "");
            LoopDisk.run("mcopy", "-o", "-i", disk.node("boot"), "::/grub/grubenv", env.toString());
            assertEquals(1024, Files.size(env));
            String vars = LoopDisk.run("grub-editenv", env.toString(), "list");
            assertTrue(vars.contains("resin_root_part=3") && vars.contains("upgrade_available=1"), vars);

            // the firmware counted a trial boot; an orderly shutdown must not leave it counted
            LoopDisk.run("grub-editenv", env.toString(), "set", "bootcount=1");
            LoopDisk.run("mcopy", "-o", "-i", disk.node("boot"), env.toString(), "::/grub/grubenv");
            Run shutdown = hupd("clean-shutdown", "--device-config", cfg);
            ok(shutdown, "clean-shutdown");
            assertTrue(shutdown.out().contains("bootcount 1 reset to 0"), shutdown.out());
            LoopDisk.run("mcopy", "-o", "-i", disk.node("boot"), "::/grub/grubenv", env.toString());
            assertTrue(LoopDisk.run("grub-editenv", env.toString(), "list").contains("bootcount=0"));

            // The rollback reboots, and systemd stops hupd as it shuts down: the rollback must be on record by
            // then, or every next boot would roll back and reboot again.
            disk.rebootStopsHupd();
            Run boot = hupd("boot", "--device-config", cfg); // the kernel still says root A
            assertEquals(143, boot.code(), "hupd was to be stopped by the reboot:\n" + boot.out() + boot.err());
            Run after = hupd("status", "--device-config", cfg, "--json");
            ok(after, "status after the rollback's reboot");
            assertEquals("ROLLED_BACK_ALTBOOT", after.json().get("state").asText(), after.out());
            long reboots = Files.readAllLines(disk.systemctlLog).stream().filter("reboot"::equals).count();
            Run next = hupd("boot", "--device-config", cfg, "--json"); // the next start, on root A again
            ok(next, "the boot after the rollback");
            assertEquals("ROLLED_BACK_ALTBOOT", next.json().get("state").asText(), next.out());
            assertEquals(reboots, Files.readAllLines(disk.systemctlLog).stream().filter("reboot"::equals).count(),
                    "the boot after the rollback rebooted again");
            LoopDisk.run("mcopy", "-o", "-i", disk.node("boot"), "::/grub/grubenv", env.toString());
            vars = LoopDisk.run("grub-editenv", env.toString(), "list");
            assertTrue(vars.contains("resin_root_part=2") && vars.contains("upgrade_available=0"), vars);
            assertEquals(before, disk.untouchables());
            assertTrue(Files.readAllLines(disk.systemctlLog).contains("start balena-supervisor.service"));
        }
    }

    @Test
    void onTheUbootEnvAMountedSpareRootAndALyingOrFailingFwSetenvChangeNothing() throws Exception {
        try (LoopDisk disk = LoopDisk.create(tmp, "uboot-env")) {
            String cfg = disk.config.toString();
            String env = disk.fwPrintenv();
            assertTrue(env.contains("resin_root_part=2"), env);
            Map<String, String> before = disk.untouchables();

            // a spare root that is mounted is never formatted
            LoopDisk.run("mkfs.ext4", "-q", "-F", disk.node("rootB"));
            Path spare = disk.mountAlso("rootB");
            Files.writeString(spare.resolve("someone-is-using-this"), "x\n");
            Run mounted = hupd("update", "--device-config", cfg, "--target-version", LoopDisk.V2, "--image",
                    disk.v2Ref);
            failsCleanly(mounted, "update onto a mounted spare", "mounted on " + spare);
            assertTrue(Files.exists(spare.resolve("someone-is-using-this")));
            LoopDisk.run("umount", spare.toString());
            assertEquals(env, disk.fwPrintenv());
            assertEquals(before, disk.untouchables());

            // fw_setenv that exits 0 and writes nothing
            Path liar = Files.createDirectories(tmp.resolve("liar"));
            Path fake = liar.resolve("fw_setenv");
            Files.writeString(fake, "#!/bin/sh\n# says yes, does nothing\nexit 0\n");
            Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
            Run lied = hupd(liar, "update", "--device-config", cfg, "--target-version", LoopDisk.V2, "--image",
                    disk.v2Ref);
            failsCleanly(lied, "update with a lying fw_setenv", "fw_setenv exited 0 but fw_printenv reads back");
            assertEquals(env, disk.fwPrintenv());
            assertEquals(before, disk.untouchables());

            // fw_setenv that fails
            Files.writeString(fake, "#!/bin/sh\necho 'Cannot access MTD device' >&2\nexit 1\n");
            Run failed = hupd(liar, "update", "--device-config", cfg, "--target-version", LoopDisk.V2, "--image",
                    disk.v2Ref);
            failsCleanly(failed, "update with a failing fw_setenv", "Cannot access MTD device");
            assertEquals(env, disk.fwPrintenv());
            assertEquals(before, disk.untouchables());

            // and with the real tool it goes through
            ok(hupd("update", "--device-config", cfg, "--target-version", LoopDisk.V2, "--image", disk.v2Ref),
                    "update");
            String after = disk.fwPrintenv();
            assertTrue(after.contains("resin_root_part=3") && after.contains("upgrade_available=1")
                    && after.contains("bootdelay=1"), after);
            assertEquals(before, disk.untouchables());
        }
    }

    @Test
    void badConfigsAndMissingPartitionsAreOneLineErrorsThatChangeNothing() throws Exception {
        try (LoopDisk disk = LoopDisk.create(tmp, "uboot")) {
            String cfg = disk.config.toString();
            Map<String, String> before = disk.untouchables();
            String uEnv = disk.bootFile("resinOS_uEnv.txt");
            String[][] cases = {
                {"missing partition", "partuuid", "is not on this machine"},
                {"state not mounted there", "state", "is not mounted on"},
                {"data and state mounts swapped", "data", "not from the state partition"},
                {"a bare node", "node", "never by a device node"},
                {"kernel names no root", "cmdline", "names neither root A nor root B"},
            };
            for (String[] c : cases) {
                disk.writeConfig(j -> {
                    switch (c[1]) {
                        case "partuuid" -> ((com.fasterxml.jackson.databind.node.ObjectNode) j.at("/partitions/rootB"))
                                .put("partuuid", "0badc0de-0000-4000-8000-000000000000");
                        case "state" -> ((com.fasterxml.jackson.databind.node.ObjectNode) j.get("mounts"))
                                .put("state", tmp.resolve("nowhere").toString());
                        case "data" -> ((com.fasterxml.jackson.databind.node.ObjectNode) j.get("mounts"))
                                .put("data", disk.stateMount.toString()).put("state", disk.dataMount.toString());
                        case "node" -> ((com.fasterxml.jackson.databind.node.ObjectNode) j.get("partitions"))
                                .put("boot", disk.node("boot"));
                        default -> { }
                    }
                    return j;
                });
                if (c[1].equals("cmdline")) {
                    Files.writeString(disk.cmdline, "console=ttyS0 root=/dev/nonexistent rootwait\n");
                }
                Run r = hupd("update", "--device-config", cfg, "--target-version", LoopDisk.V2, "--image",
                        disk.v2Ref);
                failsCleanly(r, c[0], c[2]);
                assertEquals(1, r.err().strip().lines().count(), c[0] + ": " + r.err());
                Run check = hupd("device", "check", "--device-config", cfg);
                failsCleanly(check, c[0] + " (device check)", c[2]);
                disk.writeConfig(j -> j);
                disk.bootedFrom("A");
            }
            Run both = hupd("status", "--device-config", cfg, "--device", tmp.toString());
            assertEquals(2, both.code(), both.err());
            assertEquals(before, disk.untouchables());
            assertEquals(uEnv, disk.bootFile("resinOS_uEnv.txt"));
            assertFalse(Files.exists(disk.dataMount.resolve("hupd/state.mv.db")), "nothing was started");
        }
    }
}
