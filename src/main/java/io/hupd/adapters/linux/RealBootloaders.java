package io.hupd.adapters.linux;

import io.hupd.adapters.bootloader.GrubEnvBlock;
import io.hupd.adapters.fs.RollForwardFiles;
import io.hupd.fs.Commands;
import io.hupd.fs.Trees;
import io.hupd.ports.BootSettings;
import io.hupd.ports.BootSettingsException;
import io.hupd.ports.Bootloader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The bootloader settings of a real device, written by the bootloaders' own tools (fw_setenv, grub-editenv) or,
 * for U-Boot's text files, by hupd's codec on the boot partition; hupd's codecs check what the tools wrote. A
 * tool that fails, or exits 0 without writing, is caught by the read-back: one-line error, nothing switched.
 */
final class RealBootloaders {
    private static final Duration TOOL_TIME = Duration.ofSeconds(60);
    private static final Map<String, String> ENV = Map.of("LC_ALL", "C");
    static final String ROOT_PART = "resin_root_part";
    static final String UPGRADE_AVAILABLE = "upgrade_available";
    static final String BOOTCOUNT = "bootcount";

    private RealBootloaders() {}

    /** The settings from a name → value map; {@code hexRoot}: U-Boot writes the partition number in hex. */
    static BootSettings settings(String where, Map<String, String> vars, boolean hexRoot) throws BootSettingsException {
        String root = vars.get(ROOT_PART);
        if (root == null) {
            throw new BootSettingsException(where + ": " + ROOT_PART + " is not set");
        }
        int part;
        try {
            part = Integer.parseInt(root.strip(), hexRoot ? 16 : 10);
        } catch (NumberFormatException e) {
            throw new BootSettingsException(where + ": " + ROOT_PART + " '" + clip(root) + "' is not a partition"
                    + " number");
        }
        if (part < 1 || part > 0xff) {
            throw new BootSettingsException(where + ": " + ROOT_PART + " " + root + " is not a partition number");
        }
        String flag = vars.getOrDefault(UPGRADE_AVAILABLE, "0").strip();
        if (!flag.equals("0") && !flag.equals("1")) {
            throw new BootSettingsException(where + ": " + UPGRADE_AVAILABLE + " '" + clip(flag) + "' is not 0 or 1");
        }
        String count = vars.getOrDefault(BOOTCOUNT, "0").strip();
        int n;
        try {
            // U-Boot's setexpr writes counts in hex with a 0x prefix
            n = count.startsWith("0x") ? Integer.parseInt(count.substring(2), 16) : Integer.parseInt(count);
        } catch (NumberFormatException e) {
            throw new BootSettingsException(where + ": " + BOOTCOUNT + " '" + clip(count) + "' is not a number");
        }
        if (n < 0) {
            throw new BootSettingsException(where + ": " + BOOTCOUNT + " " + n + " is negative");
        }
        return new BootSettings(part, flag.equals("1"), n);
    }

    private static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    /** The binary redundant U-Boot environment, through libubootenv's fw_printenv / fw_setenv and its config. */
    static final class FwEnv implements Bootloader {
        private final Path config;
        private final int limit;

        FwEnv(Path config, int limit) {
            this.config = config;
            this.limit = limit;
        }

        @Override
        public String flavour() {
            return "uboot-env";
        }

        @Override
        public BootSettings read() throws IOException {
            return settings("the U-Boot environment (" + config + ")", rawVariables(), true);
        }

        /**
         * {@code fw_setenv -s} reads {@code name=value} lines; it skips a {@code name value} line without a word
         * and still exits 0, which the read-back below would catch.
         */
        @Override
        public void write(BootSettings s) throws IOException {
            String script = ROOT_PART + "=" + Integer.toHexString(s.rootPart()) + "\n" + UPGRADE_AVAILABLE + "="
                    + (s.upgradeAvailable() ? 1 : 0) + "\n" + BOOTCOUNT + "=" + s.bootcount() + "\n";
            Path file = Files.createTempFile("hupd-fw_setenv", ".txt");
            try {
                Files.writeString(file, script);
                Commands.Result r = Commands.run(List.of(ToolPaths.find("fw_setenv"), "-c", config.toString(), "-s",
                        file.toString()), TOOL_TIME, null, ENV, null);
                if (!r.ok()) {
                    throw new BootSettingsException("fw_setenv -c " + config + " failed: " + r.firstErrorLine()
                            + " (the boot settings were not changed)");
                }
            } finally {
                Files.deleteIfExists(file);
            }
            BootSettings back = read();
            if (!back.equals(s)) {
                throw new BootSettingsException("fw_setenv exited 0 but fw_printenv reads back " + describe(back)
                        + " instead of " + describe(s) + ": the U-Boot environment was not written");
            }
        }

        @Override
        public int bootLimit() {
            return limit;
        }

        @Override
        public Map<String, String> rawVariables() throws IOException {
            Commands.Result r = Commands.run(List.of(ToolPaths.find("fw_printenv"), "-c", config.toString()),
                    TOOL_TIME, null, ENV, null);
            if (!r.ok()) {
                throw new BootSettingsException("fw_printenv -c " + config + " failed: " + r.firstErrorLine());
            }
            Map<String, String> vars = new LinkedHashMap<>();
            for (String line : r.out().split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    vars.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            return vars;
        }
    }

    /**
     * GRUB's environment block, written by grub-editenv on a copy that is then checked with hupd's codec (exactly
     * 1024 bytes, the values asked for) and put in place by an atomic replace: grub-editenv itself rewrites the
     * file in place, which a power cut can leave torn.
     */
    static final class GrubEditenv implements Bootloader {
        private final Path file;
        private final int limit;

        GrubEditenv(Path file, int limit) {
            this.file = file;
            this.limit = limit;
        }

        @Override
        public String flavour() {
            return "grub";
        }

        @Override
        public BootSettings read() throws IOException {
            return settings(file.toString(), rawVariables(), false);
        }

        @Override
        public void write(BootSettings s) throws IOException {
            Path work = file.resolveSibling("." + file.getFileName() + ".hupd-editenv");
            try {
                if (Files.isRegularFile(file)) {
                    Files.copy(file, work, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                } else {
                    editenv(work, "create");
                }
                editenv(work, "set", ROOT_PART + "=" + s.rootPart(), UPGRADE_AVAILABLE + "="
                        + (s.upgradeAvailable() ? 1 : 0), BOOTCOUNT + "=" + s.bootcount());
                byte[] block = Files.readAllBytes(work);
                BootSettings made = checked(work, block);
                if (!made.equals(s)) {
                    throw new BootSettingsException("grub-editenv exited 0 but its block holds " + describe(made)
                            + " instead of " + describe(s) + ": " + file + " was left as it was");
                }
                RollForwardFiles.write(file, block);
                if (!Arrays.equals(Files.readAllBytes(file), block)) {
                    throw new BootSettingsException(file + " does not read back as written");
                }
            } finally {
                Files.deleteIfExists(work);
            }
        }

        private static BootSettings checked(Path where, byte[] block) throws BootSettingsException {
            if (block.length != GrubEnvBlock.SIZE) {
                throw new BootSettingsException(where + " is " + block.length + " bytes, not the "
                        + GrubEnvBlock.SIZE + " of a GRUB environment block");
            }
            return settings(where.toString(), GrubEnvBlock.parse(block), false);
        }

        /** What grub-editenv lists, which must be what hupd's codec reads from the same bytes. */
        @Override
        public Map<String, String> rawVariables() throws IOException {
            if (!Files.isRegularFile(file)) {
                throw new BootSettingsException(file + " does not exist");
            }
            byte[] block = Files.readAllBytes(file);
            checked(file, block);
            Map<String, String> ours = GrubEnvBlock.parse(block);
            Commands.Result r = Commands.run(List.of(ToolPaths.find("grub-editenv"), file.toString(), "list"),
                    TOOL_TIME, null, ENV, null);
            if (!r.ok()) {
                throw new BootSettingsException("grub-editenv " + file + " list failed: " + r.firstErrorLine());
            }
            Map<String, String> theirs = new LinkedHashMap<>();
            for (String line : r.out().split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    theirs.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            for (String k : List.of(ROOT_PART, UPGRADE_AVAILABLE, BOOTCOUNT)) {
                if (!java.util.Objects.equals(ours.get(k), theirs.get(k))) {
                    throw new BootSettingsException(file + ": grub-editenv reads " + k + "=" + theirs.get(k)
                            + " where hupd reads " + ours.get(k));
                }
            }
            return theirs;
        }

        private void editenv(Path target, String... args) throws IOException {
            List<String> cmd = new java.util.ArrayList<>(List.of(ToolPaths.find("grub-editenv"), target.toString()));
            cmd.addAll(List.of(args));
            Commands.Result r = Commands.run(cmd, TOOL_TIME, null, ENV, null);
            if (!r.ok()) {
                throw new BootSettingsException("grub-editenv " + String.join(" ", args) + " failed: "
                        + r.firstErrorLine() + " (the boot settings were not changed)");
            }
        }

        @Override
        public int bootLimit() {
            return limit;
        }
    }

    /**
     * Settings kept in files on a boot partition that is not mounted: each use copies them out with mtools into a
     * scratch folder, the flavour's own adapter works there, and the files it changed are written back one by one
     * (each read back by {@link FatPartition#write}); after a write the settings are copied out afresh and read
     * again, so a write that did not land is an error.
     */
    static final class Mirrored implements Bootloader {
        private final FatPartition fat;
        private final List<String> files;
        private final Function<Path, Bootloader> open;
        private final Path scratch;

        Mirrored(FatPartition fat, List<String> files, Function<Path, Bootloader> open, Path scratch) {
            this.fat = fat;
            this.files = files;
            this.open = open;
            this.scratch = scratch;
        }

        private interface Use<T> {
            T on(Bootloader b, Path dir) throws IOException;
        }

        private <T> T withCopy(Use<T> use) throws IOException {
            Files.createDirectories(scratch.getParent());
            Path dir = Files.createTempDirectory(scratch.getParent(), scratch.getFileName().toString());
            try {
                for (String f : files) {
                    fat.copyTo(f, dir);
                }
                return use.on(open.apply(dir), dir);
            } finally {
                Trees.deleteRecursively(dir);
            }
        }

        @Override
        public String flavour() {
            return open.apply(scratch).flavour();
        }

        @Override
        public BootSettings read() throws IOException {
            return withCopy((b, d) -> b.read());
        }

        @Override
        public void write(BootSettings s) throws IOException {
            withCopy((b, dir) -> {
                Map<String, byte[]> before = new LinkedHashMap<>();
                for (String f : files) {
                    Path p = dir.resolve(f);
                    before.put(f, Files.isRegularFile(p) ? Files.readAllBytes(p) : null);
                }
                b.write(s);
                for (String f : files) {
                    Path p = dir.resolve(f);
                    byte[] now = Files.isRegularFile(p) ? Files.readAllBytes(p) : null;
                    if (now != null && !Arrays.equals(now, before.get(f))) {
                        fat.write(f, now);
                    } else if (now == null && before.get(f) != null) {
                        fat.delete(f);
                    }
                }
                return null;
            });
            BootSettings back = read();
            if (!back.equals(s)) {
                throw new BootSettingsException("the boot partition " + fat.node() + " reads back " + describe(back)
                        + " instead of " + describe(s));
            }
        }

        @Override
        public int bootLimit() throws IOException {
            return withCopy((b, d) -> b.bootLimit());
        }

        @Override
        public Map<String, String> rawVariables() throws IOException {
            return withCopy((b, d) -> b.rawVariables());
        }
    }

    /** The configured boot limit in place of the flavour's own default. */
    static Bootloader withLimit(Bootloader b, int limit) {
        return new Bootloader() {
            @Override
            public String flavour() {
                return b.flavour();
            }

            @Override
            public BootSettings read() throws IOException {
                return b.read();
            }

            @Override
            public void write(BootSettings settings) throws IOException {
                b.write(settings);
            }

            @Override
            public int bootLimit() {
                return limit;
            }

            @Override
            public Map<String, String> rawVariables() throws IOException {
                return b.rawVariables();
            }
        };
    }

    static String describe(BootSettings s) {
        return "root partition " + s.rootPart() + ", upgrade_available=" + (s.upgradeAvailable() ? 1 : 0)
                + ", bootcount=" + s.bootcount();
    }
}
