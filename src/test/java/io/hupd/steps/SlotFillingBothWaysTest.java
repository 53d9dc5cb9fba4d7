package io.hupd.steps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.adapters.sim.Ext4Image;
import io.hupd.adapters.sim.SampleOs;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.authoring.OciLayoutWriter;
import io.hupd.machine.UpdateState;
import io.hupd.runner.UpdateRequest;
import io.hupd.testkit.SlotTree;
import io.hupd.testkit.TestRig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same image written into the spare slot both ways (straight from the layer by mke2fs, and through a staging
 * folder) gives the same filesystem: owners, modes with setuid/setgid/sticky bits, symlinks, hard links, times,
 * empty and all-zero files, content.
 */
class SlotFillingBothWaysTest {
    static final String VERSION = "2.200.0";

    @TempDir
    Path tmp;

    @BeforeAll
    static void theMachineHasAnArchiveTakingMke2fs() {
        // Without it both devices would stage in a folder and the comparison would prove nothing; .ci/run
        // installs e2fsprogs from bookworm-backports.
        assertTrue(Ext4Image.takesArchives(), "mke2fs on this machine does not take a tar archive for -d");
    }

    @Test
    void bothWaysGiveTheSameTree() throws Exception {
        String ref = richImage();
        TestRig onePass = TestRig.create(tmp.resolve("one-pass"), "uboot");
        TestRig folder = TestRig.create(tmp.resolve("folder"), "uboot", c -> c.withStagingFolder(true));

        assertEquals(UpdateState.REBOOTING, update(onePass, ref));
        assertEquals(UpdateState.REBOOTING, update(folder, ref));

        assertTrue(onePass.output().contains("writing slot B from the layer"), onePass.output());
        assertFalse(folder.output().contains("from the layer"), folder.output());
        Map<String, String> a = SlotTree.read(onePass.deviceDir.resolve("rootB.img"));
        Map<String, String> b = SlotTree.read(folder.deviceDir.resolve("rootB.img"));
        assertEquals(b, a);
        // the comparison saw what it is meant to compare
        assertTrue(a.get("/").startsWith("mode=0755 owner=0:0"), a.get("/"));
        assertTrue(a.get("/usr/bin/sudo").startsWith("mode=104755 uid=0 gid=0"), a.get("/usr/bin/sudo"));
        assertTrue(a.get("/usr/bin/wall").startsWith("mode=102755 uid=0 gid=5"), a.get("/usr/bin/wall"));
        assertTrue(a.get("/home/user/notes").startsWith("mode=100600 uid=1000 gid=1000"), a.get("/home/user/notes"));
        assertTrue(a.get("/tmp").startsWith("mode=41777"), a.get("/tmp"));
        assertTrue(a.get("/bin/ls").contains("names=[/bin/busybox, /bin/ls, /bin/sh]"), a.get("/bin/ls"));
        assertTrue(a.get("/lib/libc.so").contains("target=libc.so.6"), a.get("/lib/libc.so"));
        assertTrue(a.get("/var/empty").startsWith("mode=40700"), a.get("/var/empty"));
    }

    private static UpdateState update(TestRig rig, String ref) throws Exception {
        return rig.service(rig.ports()).update(new UpdateRequest(VERSION, List.of(ref), null, true, false));
    }

    /** The sample OS plus what a real root filesystem has and a careless copy would lose. */
    private String richImage() throws Exception {
        Path root = tmp.resolve("rich");
        SampleOs.writeRootfs(root, VERSION, "14.1.0", SampleOs.Flaw.NONE);
        Path bin = Files.createDirectories(root.resolve("bin"));
        Files.writeString(bin.resolve("busybox"), "#!/bin/sh\necho busybox\n");
        Files.createLink(bin.resolve("sh"), bin.resolve("busybox"));
        Files.createLink(bin.resolve("ls"), bin.resolve("busybox"));
        Path sudo = Files.writeString(root.resolve("usr/bin/sudo"), "#!/bin/sh\necho sudo\n");
        Path wall = Files.writeString(root.resolve("usr/bin/wall"), "#!/bin/sh\necho wall\n");
        Files.setAttribute(wall, "unix:gid", 5);
        Files.setAttribute(sudo, "unix:mode", 04755);
        Files.setAttribute(wall, "unix:mode", 02755);
        Path home = Files.createDirectories(root.resolve("home/user"));
        Path notes = Files.writeString(home.resolve("notes"), "private\n");
        for (Path p : List.of(home, notes)) {
            Files.setAttribute(p, "unix:uid", 1000);
            Files.setAttribute(p, "unix:gid", 1000);
        }
        Files.setPosixFilePermissions(notes, PosixFilePermissions.fromString("rw-------"));
        Path t = Files.createDirectories(root.resolve("tmp"));
        Files.setAttribute(t, "unix:mode", 01777);
        Path lib = Files.createDirectories(root.resolve("lib"));
        Files.write(lib.resolve("libc.so.6"), new byte[3 << 20]); // all zeros: a hole in both ways
        Files.write(lib.resolve("libm.so.6"), new byte[70_000]);
        Files.createSymbolicLink(lib.resolve("libc.so"), Path.of("libc.so.6"));
        Files.createSymbolicLink(root.resolve("etc/alternatives"),
                Path.of("/usr/share/" + "long-target/".repeat(12) + "end"));
        Files.writeString(root.resolve("etc/empty.conf"), "");
        Path empty = Files.createDirectories(root.resolve("var/empty"));
        Files.setPosixFilePermissions(empty, PosixFilePermissions.fromString("rwx------"));
        Files.setLastModifiedTime(lib.resolve("libm.so.6"), FileTime.fromMillis(1_234_567_000L));
        OciLayoutWriter.write(root, new ImageSpec(VERSION, TestRig.TYPE, "arm64", Optional.of("14.1.0")),
                tmp.resolve("rich-layout"), VERSION);
        return "oci:" + tmp.resolve("rich-layout") + ":" + VERSION;
    }
}
