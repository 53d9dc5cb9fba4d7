package io.hupd.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hupd.adapters.sim.DeviceCreator;
import io.hupd.adapters.sim.SampleOs;
import io.hupd.adapters.sim.SimDevice;
import io.hupd.image.fetch.ImageSources;
import io.hupd.ports.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real device on a loop device, for the tests of {@code --device-config}: a GPT disk image with boot (FAT),
 * root A (the OS of a simulated device made by {@code hupd device create}), root B (empty), state and data (ext4,
 * mounted under the test's folder), a kernel command line file naming root A, a recording {@code systemctl}
 * script, and the device config. The kernel here has no partition parsers (partx adds the partitions) and no
 * VFAT (the boot partition is reached with mtools). Needs root. Everything is undone by {@link #close}, and
 * {@link #cleanLeftovers} undoes what a killed run left (loop devices on files named {@link #MARK}).
 */
public final class LoopDisk implements AutoCloseable {
    public static final String MARK = "hupd-loopdisk";
    public static final String V1 = TestRig.V1;
    public static final String V2 = TestRig.V2;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> MTOOLS = Map.of("MTOOLS_SKIP_CHECK", "1");

    public final Path dir;
    public final Path image;
    public final String loop;
    public final String tag;
    public final Map<String, String> partuuid = new LinkedHashMap<>();
    public final Path stateMount;
    public final Path dataMount;
    public final Path cmdline;
    public final Path systemctlLog;
    public final Path fakeBin;
    public final Path config;
    private final Path supervisorState;
    public final String v2Ref;
    public final String bootloader;
    private final List<Path> mounted = new ArrayList<>();

    public static final String[] ROLES = {"boot", "rootA", "rootB", "state", "data"};

    private LoopDisk(Path dir, String bootloader) throws Exception {
        this.dir = dir;
        this.bootloader = bootloader;
        this.tag = UUID.randomUUID().toString().substring(0, 6);
        this.image = dir.resolve(MARK + "-" + tag + ".img");
        run("truncate", "-s", "128M", image.toString());
        List<String> sg = new ArrayList<>(List.of("sgdisk"));
        String[] sizes = {"+8M", "+24M", "+24M", "+4M", "+56M"};
        for (int i = 0; i < ROLES.length; i++) {
            sg.addAll(List.of("-n", (i + 1) + ":0:" + sizes[i], "-c", (i + 1) + ":" + label(ROLES[i])));
        }
        sg.add(image.toString());
        run(sg.toArray(String[]::new));
        this.loop = run("losetup", "-f", "--show", image.toString()).strip();
        run("partx", "-a", loop);
        for (int i = 0; i < ROLES.length; i++) {
            String out = run("blkid", "-c", "/dev/null", "-o", "value", "-s", "PARTUUID", node(ROLES[i]));
            partuuid.put(ROLES[i], out.strip());
        }
        // The OS of root A and the boot files are those of a simulated device made the usual way.
        Path src = dir.resolve("src");
        Path layout = dir.resolve("images");
        String v1Ref = SampleOs.image(src, layout, TestRig.TYPE, "arm64", V1, "14.0.0", SampleOs.Flaw.NONE);
        this.v2Ref = SampleOs.image(src, layout, TestRig.TYPE, "arm64", V2, "14.1.0", SampleOs.Flaw.NONE);
        SimDevice sim = DeviceCreator.create(dir.resolve("sim"), v1Ref, new DeviceCreator.Options(null,
                bootloader.equals("uboot-env") ? "uboot" : bootloader, "16M", "4M", null, "online", "0ms", "0ms", 1,
                null), ImageSources::open, Progress.NONE);
        run("dd", "if=" + sim.dir().resolve("rootA.img"), "of=" + node("rootA"), "bs=1M", "conv=fsync",
                "status=none");
        run("mkfs.vfat", "-n", "RESIN-BOOT", node("boot"));
        try (Stream<Path> s = Files.list(sim.bootDir())) {
            for (Path p : (Iterable<Path>) s::iterator) {
                tool(MTOOLS, "mcopy", "-s", "-i", node("boot"), p.toString(), "::/");
            }
        }
        run("mkfs.ext4", "-q", "-F", "-L", "resin-state", node("state"));
        run("mkfs.ext4", "-q", "-F", "-L", "resin-data", node("data"));
        this.stateMount = mount("state");
        this.dataMount = mount("data");
        Files.createDirectories(dataMount.resolve("supervisor"));
        Files.copy(sim.dataDir().resolve("supervisor/version"), dataMount.resolve("supervisor/version"));
        Path user = Files.createDirectories(dataMount.resolve("user"));
        Files.writeString(user.resolve("notes.txt"), "the user's own file\n");
        Files.write(user.resolve("app.db"), new java.util.Random(7).ints(4096).mapToObj(Integer::toString)
                .reduce("", String::concat).getBytes(StandardCharsets.UTF_8));
        this.cmdline = dir.resolve("cmdline");
        this.supervisorState = dir.resolve("supervisor.state");
        bootedFrom("A");
        this.fakeBin = Files.createDirectories(dir.resolve("bin"));
        this.systemctlLog = dir.resolve("systemctl.log");
        Path state = supervisorState;
        Path systemctl = fakeBin.resolve("systemctl");
        Files.writeString(systemctl, "#!/bin/sh\n# records what hupd asks systemd, keeps the unit's state\n"
                + "echo \"$*\" >> '" + systemctlLog + "'\n"
                + "case \"$1\" in\n"
                + "  is-active) s=$(cat '" + state + "'); [ \"$2\" = --quiet ] || echo \"$s\";"
                + " [ \"$s\" = active ]; exit $? ;;\n"
                + "  stop) echo inactive > '" + state + "' ;;\n"
                + "  start) echo active > '" + state + "' ;;\n"
                // as systemd does at a reboot: the unit that asked (hupd, the script's parent) is stopped
                + "  reboot) [ \"$2\" = --force ] || [ ! -f '" + dir.resolve("reboot-stops-hupd") + "' ]"
                + " || kill -TERM $PPID ;;\n"
                + "esac\nexit 0\n");
        Files.setPosixFilePermissions(systemctl, PosixFilePermissions.fromString("rwxr-xr-x"));
        this.config = dir.resolve("device.json");
        writeConfig(c -> c);
    }

    /** Makes the disk; on any failure what was set up so far is undone. */
    /** From now on {@code systemctl reboot} stops hupd at once, as systemd stops the unit that asked for it. */
    public void rebootStopsHupd() throws IOException {
        Files.writeString(dir.resolve("reboot-stops-hupd"), "");
    }

    public static LoopDisk create(Path dir, String bootloader) throws Exception {
        cleanLeftovers();
        LoopDisk[] made = new LoopDisk[1];
        try {
            made[0] = new LoopDisk(dir, bootloader);
            if (bootloader.equals("uboot-env")) {
                made[0].makeUbootEnv();
            }
            return made[0];
        } catch (Exception | AssertionError e) {
            cleanLeftovers();
            throw e;
        }
    }

    public String label(String role) {
        return "resin-" + role + "-" + tag;
    }

    public String node(String role) {
        return loop + "p" + (java.util.Arrays.asList(ROLES).indexOf(role) + 1);
    }

    /**
     * A boot of this slot: the command line the "running" kernel got (root= naming the slot by PARTLABEL), and the
     * supervisor unit started by systemd as the OS came up.
     */
    public void bootedFrom(String slot) throws IOException {
        Files.writeString(supervisorState, "active\n");
        Files.writeString(cmdline, "console=ttyS0 root=PARTLABEL=" + label("root" + slot) + " rootwait ro\n");
    }

    public interface Edit {
        ObjectNode apply(ObjectNode config);
    }

    /** Writes the device config (root A by PARTLABEL, the rest by PARTUUID), edited by {@code edit}. */
    public void writeConfig(Edit edit) throws IOException {
        ObjectNode c = JSON.createObjectNode();
        c.put("format", 1).put("deviceType", TestRig.TYPE).put("architecture", "arm64");
        ObjectNode parts = c.putObject("partitions");
        for (String role : ROLES) {
            if (role.equals("rootA")) {
                parts.putObject(role).put("partlabel", label(role));
            } else {
                parts.putObject(role).put("partuuid", partuuid.get(role));
            }
        }
        ObjectNode bl = c.putObject("bootloader").put("flavour", bootloader);
        if (bootloader.equals("uboot-env")) {
            bl.put("fwEnvConfig", dir.resolve("fw_env.config").toString());
        }
        if (bootloader.equals("grub")) {
            bl.put("grubenv", "grub/grubenv");
        }
        c.put("bootLimit", 3);
        c.putObject("supervisor").put("unit", "balena-supervisor.service");
        c.put("systemctl", fakeBin.resolve("systemctl").toString());
        c.put("rebootTimeout", "50ms");
        c.putObject("mounts").put("state", stateMount.toString()).put("data", dataMount.toString());
        c.putObject("health").put("settle", "0ms").put("interval", "0ms").put("count", 1).put("checkTimeout", "30s");
        c.put("kernelCmdline", cmdline.toString());
        Files.write(config, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(edit.apply(c)));
    }

    /** The binary redundant environment in the gap before the first partition, made by mkenvimage. */
    private void makeUbootEnv() throws Exception {
        Path text = dir.resolve("env.txt");
        Files.writeString(text, "resin_root_part=2\nupgrade_available=0\nbootcount=0\nbootdelay=1\n");
        Path bin = dir.resolve("env.bin");
        run("mkenvimage", "-r", "-s", "0x4000", "-o", bin.toString(), text.toString());
        for (String seek : new String[] {"512", "528"}) { // 0x80000 and 0x84000, in KiB
            run("dd", "if=" + bin, "of=" + loop, "bs=1K", "seek=" + seek, "conv=notrunc,fsync", "status=none");
        }
        Files.writeString(dir.resolve("fw_env.config"), loop + " 0x80000 0x4000\n" + loop + " 0x84000 0x4000\n");
        writeConfig(c -> c);
    }

    private Path mount(String role) throws Exception {
        Path m = Files.createDirectories(dir.resolve("mnt-" + role));
        run("mount", node(role), m.toString());
        mounted.add(m);
        return m;
    }

    /** Mounts a partition somewhere else too (a mounted spare root must be refused). */
    public Path mountAlso(String role) throws Exception {
        return mount(role);
    }

    /** A file of the FAT boot partition, read with mtools; null when it is not there. */
    public String bootFile(String path) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("mcopy", "-n", "-i", node("boot"), "::/" + path, "-");
        pb.environment().putAll(MTOOLS);
        Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return p.waitFor() == 0 ? out : null;
    }

    /** The U-Boot environment as fw_printenv reads it. */
    public String fwPrintenv() throws Exception {
        return run("fw_printenv", "-c", dir.resolve("fw_env.config").toString());
    }

    public String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Checksums of the running root's whole partition and of every user file in the data partition. */
    public Map<String, String> untouchables() throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        run("blockdev", "--flushbufs", node("rootA"));
        out.put("rootA", sha256(Path.of(node("rootA"))));
        try (Stream<Path> s = Files.walk(dataMount.resolve("user"))) {
            for (Path p : (Iterable<Path>) s.sorted()::iterator) {
                if (Files.isRegularFile(p)) {
                    out.put(dataMount.relativize(p).toString(), sha256(p));
                }
            }
        }
        return out;
    }

    /** Runs a command that must succeed; returns its standard output. */
    public static String run(String... cmd) throws Exception {
        return tool(Map.of(), cmd);
    }

    private static String tool(Map<String, String> env, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("PATH", "/usr/sbin:/sbin:/usr/bin:/bin");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " hung");
        }
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }

    private static void quietly(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(60, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // cleaning up as much as can be
        }
    }

    /** Unmounts and detaches every loop device backed by a file named like ours (a killed run's leftovers too). */
    public static void cleanLeftovers() throws Exception {
        String list = run("losetup", "-l", "-n", "-O", "NAME,BACK-FILE");
        for (String line : list.split("\n")) {
            String[] f = line.strip().split("\\s+", 2);
            if (f.length < 2 || !f[1].contains(MARK)) {
                continue;
            }
            String loop = f[0];
            for (String m : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] mf = m.split(" ");
                int sep = java.util.Arrays.asList(mf).indexOf("-");
                if (sep > 0 && mf[sep + 2].startsWith(loop + "p")) {
                    quietly("umount", "-l", mf[4]);
                }
            }
            quietly("partx", "-d", loop);
            quietly("losetup", "-d", loop);
        }
    }

    @Override
    public void close() throws Exception {
        for (int i = mounted.size() - 1; i >= 0; i--) {
            quietly("umount", mounted.get(i).toString());
        }
        quietly("partx", "-d", loop);
        quietly("losetup", "-d", loop);
        cleanLeftovers();
    }
}
