package io.hupd.firmware;

import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.adapters.bootloader.Bootloaders;
import io.hupd.adapters.sim.SimFirmware;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bootloader-script table: every case is run by the real firmware on a GPT disk image (hupd's shipped
 * {@code bootloader/} scripts in GRUB 2.06 grub-emu, i386-pc GRUB in QEMU and U-Boot 2023.01 qemu_arm64) and by
 * the simulator's firmware ({@code SimFirmware.selectRoot}) on the same files; the root each picks and
 * the settings each leaves on the boot partition must agree. Not a *Test: it needs QEMU and takes minutes, so it
 * runs in its own CI step ({@code mvn -B test -Pfirmware}, see docs/bootloader-integration.md).
 */
class FirmwareTable {
    private static final Path REPO = Path.of(System.getProperty("hupd.repo", "."));
    private static final Pattern DECISION = Pattern.compile("hupd-boot: root=([0-9a-fA-F]+) bootcount=");
    private static final Pattern ANSI = Pattern.compile("\u001b\\[[0-9;?]*[a-zA-Z]|\u001b[()][A-Z0-9]|\r");
    private static final String ENV_CONFIG = "uboot.env 0x0 0x4000\nuboot.env 0x4000 0x4000\n";

    @TempDir
    Path tmp;

    /** One row of the table: the boot partition's settings files as the firmware finds them. */
    record Case(String flavour, String name, Map<String, byte[]> files) {}

    enum Firmware {
        GRUB_EMU("grub", "grub-emu"), GRUB_PC("grub", "grub i386-pc (qemu)"), UBOOT_TEXT("uboot", "u-boot qemu_arm64"),
        UBOOT_ENV("uboot-env", "u-boot qemu_arm64");

        final String flavour;
        final String label;

        Firmware(String flavour, String label) {
            this.flavour = flavour;
            this.label = label;
        }
    }

    @Test
    void everyCaseAgreesWithTheSimulator() throws Exception {
        List<String> failures = new ArrayList<>();
        int passed = 0;
        StringBuilder summary = new StringBuilder();
        String only = System.getProperty("hupd.firmware.only", "");
        for (Firmware fw : Firmware.values()) {
            if (!only.isEmpty() && !Arrays.asList(only.split(",")).contains(fw.name())) {
                continue;
            }
            List<Case> cases = cases(fw.flavour);
            if (fw == Firmware.GRUB_PC) {
                cases = cases.stream().filter(c -> c.name().contains("root=2")).toList();
            }
            long start = System.nanoTime();
            Runner runner = new Runner(fw, Path.of(System.getProperty("hupd.firmware.scripts",
                    REPO.resolve("bootloader").toString())), tmp.resolve(fw.name()));
            List<String> fwFailures = runner.runAll(cases);
            long ms = (System.nanoTime() - start) / 1_000_000;
            failures.addAll(fwFailures);
            passed += cases.size() - fwFailures.size();
            String line = String.format("firmware table %s [%s]: %d passed, %d failed, %.1f s", fw.label,
                    fw.flavour, cases.size() - fwFailures.size(), fwFailures.size(), ms / 1000.0);
            System.out.println(line);
            summary.append(line).append('\n');
        }
        System.out.println("firmware table: " + passed + " passed, " + failures.size() + " failed");
        assertTrue(failures.isEmpty(), summary + String.join("\n", failures));
    }

    /** A grub.cfg that never falls back must make the table fail: the table can tell a broken script. */
    @Test
    void aScriptThatNeverFallsBackFailsTheTable() throws Exception {
        Path broken = tmp.resolve("broken");
        Files.createDirectories(broken.resolve("grub"));
        String cfg = Files.readString(REPO.resolve("bootloader/grub/grub.cfg"));
        String fixed = "set hupd_part=\"${hupd_other}\"";
        assertTrue(cfg.contains(fixed), "the fallback line of grub.cfg moved; update this test");
        Files.writeString(broken.resolve("grub/grub.cfg"), cfg.replace(fixed, "set hupd_part=\"${hupd_named}\""));
        List<Case> cases = cases("grub");
        List<String> failures = new Runner(Firmware.GRUB_EMU, broken, tmp.resolve("broken-run")).runAll(cases);
        // Worded so that it does not read as the run's own pass/fail summary line.
        System.out.println("a grub.cfg that never falls back is caught: " + failures.size() + " of " + cases.size()
                + " cases disagree with the simulator");
        assertTrue(failures.size() > 0, "a grub.cfg that never falls back passed the whole table");
        assertTrue(failures.stream().anyMatch(f -> f.contains("pending bootcount 1:")),
                String.join("\n", failures));
    }

    // --- the cases ---

    static List<Case> cases(String flavour) {
        List<Case> out = new ArrayList<>();
        for (int root : new int[] {2, 3}) {
            for (boolean pending : new boolean[] {false, true}) {
                String head = "root=" + root + (pending ? " pending" : " committed");
                for (Map.Entry<String, String> count : counts(flavour).entrySet()) {
                    Map<String, byte[]> files = new LinkedHashMap<>();
                    String value = count.getValue();
                    switch (flavour) {
                        case "uboot" -> {
                            files.put("resinOS_uEnv.txt", ascii("resin_root_part=" + Integer.toHexString(root)
                                    + "\nupgrade_available=" + (pending ? 1 : 0) + "\n"));
                            if (value != null) {
                                files.put("bootcount.env", ascii(value));
                            }
                        }
                        case "grub" -> {
                            Map<String, String> vars = new LinkedHashMap<>();
                            vars.put("resin_root_part", Integer.toString(root));
                            vars.put("upgrade_available", pending ? "1" : "0");
                            if (value != null) {
                                vars.put("bootcount", value);
                            }
                            files.put("grub/grubenv", grubenv(vars));
                        }
                        default -> {
                            Map<String, String> vars = new LinkedHashMap<>();
                            vars.put("resin_root_part", Integer.toHexString(root));
                            vars.put("upgrade_available", pending ? "1" : "0");
                            if (value != null) {
                                vars.put("bootcount", value);
                            }
                            Map<String, String> stale = Map.of("resin_root_part", Integer.toHexString(5 - root),
                                    "upgrade_available", "0", "bootcount", "0");
                            // alternate which copy is the newer one, and wrap the counter now and then
                            int variant = out.size() % 3;
                            int newFlags = variant == 2 ? 0 : 7;
                            int oldFlags = variant == 2 ? 255 : 6;
                            byte[] current = envCopy(vars, newFlags);
                            byte[] old = envCopy(stale, oldFlags);
                            files.put("uboot.env", variant == 1 ? concat(current, old) : concat(old, current));
                            files.put("fw_env.config", ascii(ENV_CONFIG));
                        }
                    }
                    out.add(new Case(flavour, head + " bootcount " + count.getKey(), files));
                }
            }
        }
        out.addAll(damaged(flavour));
        return out;
    }

    /** Count label -> the file or value as stored; null means none. */
    private static Map<String, String> counts(String flavour) {
        Map<String, String> c = new LinkedHashMap<>();
        int limit = flavour.equals("grub") ? 1 : 3;
        for (int n = 0; n <= limit + 1; n++) {
            c.put(Integer.toString(n), flavour.equals("uboot") ? "bootcount=" + n + "\n" : Integer.toString(n));
        }
        if (flavour.equals("uboot")) {
            c.put("missing", null);
            c.put("garbage", "bootcount=zz!\n");
            c.put("empty file", "");
            c.put("1+NUL", "bootcount=1\n\0");
            c.put("3+NUL", "bootcount=3\n\0");
            c.put("9 (hex)", "bootcount=9\n");
            c.put("a (hex 10)", "bootcount=a\n\0");
            c.put("10 (hex 16)", "bootcount=10\n");
        } else {
            c.put("missing", null);
            c.put("garbage", "zz!");
            c.put("empty", "");
            c.put("9", "9");
            c.put("a (hex 10)", "a");
            c.put("10", "10");
        }
        return c;
    }

    /** Whole settings files damaged: what each firmware does when its settings do not load. */
    private static List<Case> damaged(String flavour) {
        List<Case> out = new ArrayList<>();
        byte[] junk = new byte[1024];
        for (int i = 0; i < junk.length; i++) {
            junk[i] = (byte) ((i * 37 + 11) % 251);
        }
        switch (flavour) {
            case "uboot" -> {
                out.add(new Case(flavour, "damaged: resinOS_uEnv.txt garbage",
                        Map.of("resinOS_uEnv.txt", ascii("\u0001\u0002zz\nroot\n"), "bootcount.env", ascii("bootcount=5\n"))));
                out.add(new Case(flavour, "damaged: resinOS_uEnv.txt missing, bootcount 4",
                        Map.of("bootcount.env", ascii("bootcount=4\n"))));
                out.add(new Case(flavour, "damaged: extra_uEnv.txt os_bc_lim=1, pending, bootcount 1",
                        Map.of("resinOS_uEnv.txt", ascii("resin_root_part=3\nupgrade_available=1\n"),
                                "extra_uEnv.txt", ascii("os_bc_lim=1\n"), "bootcount.env", ascii("bootcount=1\n\0"))));
            }
            case "grub" -> {
                byte[] valid = grubenv(Map.of("resin_root_part", "3", "upgrade_available", "1", "bootcount", "1"));
                out.add(new Case(flavour, "damaged: grubenv garbage", Map.of("grub/grubenv", junk)));
                out.add(new Case(flavour, "damaged: grubenv truncated to 90 bytes (pending, root 3, count 1)",
                        Map.of("grub/grubenv", Arrays.copyOf(valid, 90))));
                out.add(new Case(flavour, "damaged: grubenv empty", Map.of("grub/grubenv", new byte[0])));
                out.add(new Case(flavour, "damaged: grubenv missing", Map.of()));
                byte[] zeroed = valid.clone();
                Arrays.fill(zeroed, 0, 25, (byte) 0);
                out.add(new Case(flavour, "damaged: grubenv header zeroed", Map.of("grub/grubenv", zeroed)));
            }
            default -> {
                Map<String, String> pending = Map.of("resin_root_part", "3", "upgrade_available", "1", "bootcount", "2");
                byte[] good = envCopy(pending, 4);
                byte[] bad = envCopy(Map.of("resin_root_part", "2", "upgrade_available", "0"), 5);
                bad[100] ^= 0x40;
                out.add(new Case(flavour, "damaged: newer copy bad CRC, older pending count 2",
                        Map.of("uboot.env", concat(good, bad), "fw_env.config", ascii(ENV_CONFIG))));
                byte[] bad2 = good.clone();
                bad2[7] ^= 1;
                out.add(new Case(flavour, "damaged: both copies bad CRC",
                        Map.of("uboot.env", concat(bad2, bad), "fw_env.config", ascii(ENV_CONFIG))));
                out.add(new Case(flavour, "damaged: uboot.env garbage",
                        Map.of("uboot.env", Arrays.copyOf(junk, 0x8000), "fw_env.config", ascii(ENV_CONFIG))));
            }
        }
        return out;
    }

    static byte[] grubenv(Map<String, String> vars) {
        StringBuilder s = new StringBuilder("# GRUB Environment Block\n");
        vars.forEach((k, v) -> s.append(k).append('=').append(v).append('\n'));
        byte[] out = new byte[1024];
        Arrays.fill(out, (byte) '#');
        byte[] head = ascii(s.toString());
        System.arraycopy(head, 0, out, 0, head.length);
        return out;
    }

    /** One copy of a redundant U-Boot environment: CRC32 of bytes 5.., the flags byte, name=value NUL pairs. */
    static byte[] envCopy(Map<String, String> vars, int flags) {
        byte[] copy = new byte[0x4000];
        int p = 5;
        for (Map.Entry<String, String> e : vars.entrySet()) {
            byte[] pair = ascii(e.getKey() + "=" + e.getValue());
            System.arraycopy(pair, 0, copy, p, pair.length);
            p += pair.length + 1;
        }
        copy[4] = (byte) flags;
        CRC32 crc = new CRC32();
        crc.update(copy, 5, copy.length - 5);
        ByteBuffer.wrap(copy, 0, 4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue());
        return copy;
    }

    // --- running one firmware over the table ---

    static final class Runner {
        private final Firmware fw;
        private final Path scripts;
        private final Path work;
        private Path template;
        private Path grubPrefix;
        private Path iso;

        Runner(Firmware fw, Path scripts, Path work) {
            this.fw = fw;
            this.scripts = scripts;
            this.work = work;
        }

        List<String> runAll(List<Case> cases) throws Exception {
            Files.createDirectories(work);
            template = DiskImage.template(work.resolve("template.img"), work.resolve("t"));
            prepareFirmware();
            int threads = fw == Firmware.GRUB_EMU ? 2 : Integer.getInteger("hupd.firmware.qemus", 2);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<String>> results = new ArrayList<>();
                for (int i = 0; i < cases.size(); i++) {
                    Case c = cases.get(i);
                    Path dir = work.resolve("case-" + i);
                    results.add(pool.submit(() -> runCase(c, dir)));
                }
                List<String> failures = new ArrayList<>();
                for (Future<String> r : results) {
                    String f = r.get(10, TimeUnit.MINUTES);
                    if (f != null) {
                        failures.add(f);
                    }
                }
                return failures;
            } finally {
                pool.shutdownNow();
            }
        }

        private void prepareFirmware() throws Exception {
            switch (fw) {
                case GRUB_EMU -> {
                    grubPrefix = work.resolve("grub-emu");
                    Files.createDirectories(grubPrefix);
                    Files.createSymbolicLink(grubPrefix.resolve("x86_64-emu"), Path.of("/usr/lib/grub/x86_64-emu"));
                    Files.writeString(grubPrefix.resolve("grub.cfg"), "set root=(hd0,gpt1)\n"
                            + Files.readString(scripts.resolve("grub/grub.cfg")) + "\nhalt\n");
                }
                case GRUB_PC -> {
                    Path dir = work.resolve("iso-root/boot/grub");
                    Files.createDirectories(dir);
                    Files.writeString(dir.resolve("grub.cfg"), "serial --unit=0 --speed=115200\n"
                            + "terminal_output serial\nterminal_input serial\nset root=(hd0,gpt1)\n"
                            + Files.readString(scripts.resolve("grub/grub.cfg")) + "\nhalt\n");
                    iso = work.resolve("grub.iso");
                    Sh.run(work, 120, "grub-mkrescue", "-o", iso.toString(), work.resolve("iso-root").toString());
                }
                case UBOOT_TEXT, UBOOT_ENV -> {
                    Path out = work.resolve("scr");
                    Sh.run(work, 60, "bash", scripts.resolve("build.sh").toString(), out.toString());
                    Path scr = out.resolve(fw == Firmware.UBOOT_TEXT ? "boot.scr" : "boot-env.scr");
                    Sh.run(work, 60, "mcopy", "-o", "-i", template + "@@" + DiskImage.BOOT_OFFSET, scr.toString(),
                            "::boot.scr");
                }
            }
        }

        /** Null when the firmware and the simulator agree, else one line saying how they differ. */
        String runCase(Case c, Path dir) {
            try {
                Path sim = dir.resolve("sim");
                Path real = dir.resolve("real");
                Path disk = dir.resolve("disk.img");
                Files.createDirectories(sim);
                Files.createDirectories(real);
                Files.copy(template, disk);
                for (Map.Entry<String, byte[]> f : c.files().entrySet()) {
                    Path p = sim.resolve(f.getKey());
                    Files.createDirectories(p.getParent());
                    Files.write(p, f.getValue());
                    Path staged = dir.resolve("in").resolve(f.getKey());
                    Files.createDirectories(staged.getParent());
                    Files.write(staged, f.getValue());
                    Sh.run(dir, 30, "mcopy", "-o", "-i", disk + "@@" + DiskImage.BOOT_OFFSET, staged.toString(),
                            "::" + f.getKey());
                }
                Files.createDirectories(sim.resolve("grub"));
                int simRoot = SimFirmware.selectRoot(Bootloaders.open(c.flavour(), sim));

                String console = boot(disk, dir);
                Matcher m = DECISION.matcher(console);
                if (!m.find()) {
                    return fail(c, "no decision line on the console; last output: "
                            + tail(console));
                }
                int realRoot = Integer.parseInt(m.group(1), fw.flavour.equals("grub") ? 10 : 16);
                List<String> diffs = new ArrayList<>();
                if (realRoot != simRoot) {
                    diffs.add("root: firmware " + realRoot + ", simulator " + simRoot);
                }
                for (String name : settingsFiles(c.flavour())) {
                    byte[] simBytes = readOrNull(sim.resolve(name));
                    byte[] realBytes = extract(disk, name, real);
                    if (c.flavour().equals("uboot-env") && name.equals("uboot.env")) {
                        String a = fwPrintenv(sim);
                        String b = fwPrintenv(real);
                        if (!a.equals(b)) {
                            diffs.add("uboot.env: firmware saved [" + b + "], simulator [" + a + "]");
                        }
                    } else if (!Arrays.equals(simBytes, realBytes)) {
                        diffs.add(name + ": firmware saved " + show(realBytes) + ", simulator " + show(simBytes));
                    }
                }
                return diffs.isEmpty() ? null : fail(c, String.join("; ", diffs));
            } catch (Exception e) {
                return fail(c, "error: " + e);
            }
        }

        private String fail(Case c, String why) {
            return fw.label + " [" + c.flavour() + "] " + c.name() + ": " + why;
        }

        private String boot(Path disk, Path dir) throws Exception {
            return switch (fw) {
                case GRUB_EMU -> {
                    Path map = dir.resolve("device.map");
                    Files.writeString(map, "(hd0) " + disk.toAbsolutePath() + "\n");
                    yield Sh.run(dir, 30, "grub-emu", "-d", grubPrefix.toString(), "-m", map.toString());
                }
                case GRUB_PC -> Sh.run(dir, 120, "qemu-system-x86_64", "-nographic", "-no-reboot", "-nic", "none",
                        "-m", "128", "-cdrom", iso.toString(), "-drive", "file=" + disk + ",if=ide,format=raw",
                        "-boot", "d");
                default -> Sh.run(dir, 120, "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57",
                        "-nographic", "-no-reboot", "-nic", "none", "-bios",
                        "/usr/lib/u-boot/qemu_arm64/u-boot.bin", "-drive",
                        "if=none,file=" + disk + ",format=raw,id=hd0", "-device", "virtio-blk-device,drive=hd0");
            };
        }

        private static List<String> settingsFiles(String flavour) {
            return switch (flavour) {
                case "uboot" -> List.of("resinOS_uEnv.txt", "bootcount.env", "extra_uEnv.txt");
                case "grub" -> List.of("grub/grubenv");
                default -> List.of("uboot.env");
            };
        }

        private static byte[] extract(Path disk, String name, Path into) throws Exception {
            Path out = into.resolve(name);
            Files.createDirectories(out.getParent());
            Sh.Result r = Sh.exec(into, 30, "mcopy", "-n", "-i", disk + "@@" + DiskImage.BOOT_OFFSET, "::" + name,
                    out.toString());
            return r.exit() == 0 ? Files.readAllBytes(out) : null;
        }

        private static String fwPrintenv(Path dir) throws Exception {
            Files.writeString(dir.resolve("fw_env.config"), ENV_CONFIG);
            Sh.Result r = Sh.exec(dir, 30, "fw_printenv", "-c", "fw_env.config");
            if (r.exit() != 0) {
                return "unreadable";
            }
            List<String> lines = new ArrayList<>(Arrays.asList(r.output().strip().split("\n")));
            lines.removeIf(l -> l.startsWith("Cannot") || l.isBlank());
            lines.sort(null);
            return String.join(" ", lines);
        }
    }

    /** The GPT disk: boot FAT16 (1 MiB, 16 MiB), root A and root B ext4 with a marker file (8 MiB each). */
    static final class DiskImage {
        static final long BOOT_OFFSET = 1L << 20;

        static Path template(Path img, Path scratch) throws Exception {
            Files.createDirectories(scratch);
            Sh.run(scratch, 30, "truncate", "-s", "36M", img.toString());
            Sh.run(scratch, 30, "sgdisk", "-n1:2048:+16M", "-t1:0700", "-c1:resin-boot", "-n2:0:+8M", "-t2:8300",
                    "-c2:resin-rootA", "-n3:0:+8M", "-t3:8300", "-c3:resin-rootB", img.toString());
            Path fat = scratch.resolve("boot.img");
            Sh.run(scratch, 30, "truncate", "-s", "16M", fat.toString());
            Sh.run(scratch, 30, "mkfs.fat", "-F", "16", "-n", "RESIN-BOOT", fat.toString());
            Sh.run(scratch, 30, "mmd", "-i", fat.toString(), "::grub");
            splice(fat, img, BOOT_OFFSET);
            String[] labels = {"A", "B"};
            for (int i = 0; i < 2; i++) {
                Path tree = scratch.resolve("root" + labels[i]);
                Files.createDirectories(tree.resolve("etc"));
                Files.writeString(tree.resolve("etc/hupd-slot"), "root " + labels[i] + "\n");
                Path ext = scratch.resolve("root" + labels[i] + ".img");
                Sh.run(scratch, 60, "mkfs.ext4", "-q", "-F", "-L", "resin-root" + labels[i], "-d", tree.toString(),
                        ext.toString(), "8M");
                splice(ext, img, (17L + 8L * i) << 20);
            }
            return img;
        }

        private static void splice(Path part, Path img, long offset) throws IOException {
            try (var in = java.nio.channels.FileChannel.open(part);
                    var out = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.WRITE)) {
                long n = 0;
                long size = in.size();
                while (n < size) {
                    n += in.transferTo(n, size - n, out.position(offset + n));
                }
            }
        }
    }

    static final class Sh {
        record Result(int exit, String output) {}

        static String run(Path dir, int seconds, String... cmd) throws Exception {
            Result r = exec(dir, seconds, cmd);
            if (r.exit() != 0 && !cmd[0].startsWith("qemu") && !cmd[0].equals("grub-emu")) {
                throw new IOException(String.join(" ", cmd) + " exited " + r.exit() + ": " + tail(r.output()));
            }
            return r.output();
        }

        static Result exec(Path dir, int seconds, String... cmd) throws Exception {
            Files.createDirectories(dir);
            Path log = Files.createTempFile(dir, "out", ".log");
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(log.toFile()).start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                return new Result(124, clean(Files.readString(log, StandardCharsets.ISO_8859_1)) + "\n[timed out]");
            }
            return new Result(p.exitValue(), clean(Files.readString(log, StandardCharsets.ISO_8859_1)));
        }
    }

    static String clean(String console) {
        return ANSI.matcher(console).replaceAll("\n");
    }

    static String tail(String s) {
        String t = s.strip();
        return (t.length() > 400 ? t.substring(t.length() - 400) : t).replace('\n', '|');
    }

    private static byte[] readOrNull(Path p) throws IOException {
        return Files.exists(p) ? Files.readAllBytes(p) : null;
    }

    private static String show(byte[] b) {
        if (b == null) {
            return "(no file)";
        }
        StringBuilder s = new StringBuilder("'");
        for (int i = 0; i < Math.min(b.length, 60); i++) {
            int c = b[i] & 0xff;
            s.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : c == '\n' ? "\\n" : String.format("\\x%02x", c));
        }
        return s.append(b.length > 60 ? "...' (" + b.length + " bytes)" : "'").toString();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
