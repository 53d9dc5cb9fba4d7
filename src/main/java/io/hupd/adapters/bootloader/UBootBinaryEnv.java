package io.hupd.adapters.bootloader;

import io.hupd.fs.AtomicFiles;
import io.hupd.ports.BootSettings;
import io.hupd.ports.BootSettingsException;
import io.hupd.adapters.bootloader.UBootEnvCopies.Copy;
import io.hupd.adapters.bootloader.UBootEnvCopies.CopyWriter;
import io.hupd.adapters.bootloader.UBootEnvCopies.Location;
import io.hupd.ports.Bootloader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.zip.CRC32;

/**
 * A binary U-Boot environment (beyond balena, which keeps text files): the layout that {@code fw_printenv} and
 * {@code fw_setenv} (libubootenv) read and write, described by {@code fw_env.config} in the boot folder.
 * hupd creates the redundant layout: {@code uboot.env} holds two copies of 0x4000 bytes one after the other. Each
 * copy is a CRC32 (little-endian) over the rest of the copy, a flags byte used as a counter, then
 * {@code name=value\0} entries ended by an empty one. A single-copy layout (one line in the config; no flags
 * byte) is read and written too.
 *
 * <p>Paths in {@code fw_env.config} that are not absolute are taken relative to the boot folder. libubootenv
 * takes them relative to its working directory, so the tools see the same file when run from the boot folder
 * ({@code cd boot && fw_printenv -c fw_env.config}), as the CLI contract says.
 *
 * <p>Variables are the U-Boot text flavour's and mean the same: {@code resin_root_part} in lower-case hex (the
 * firmware passes it to U-Boot's partition syntax, which is hex), {@code upgrade_available} 0 or 1,
 * {@code bootcount} in hex as {@code setexpr} writes it, kept in the environment itself (0 included), and an
 * optional {@code os_bc_lim} in decimal (default 3). Other variables are kept byte for byte.
 */
public final class UBootBinaryEnv implements Bootloader {
    public static final String FLAVOUR = "uboot-env";
    static final String ENV_FILE = "uboot.env";
    static final String CONFIG_FILE = "fw_env.config";
    static final int COPY_SIZE = 0x4000;
    static final String DEFAULT_CONFIG = ENV_FILE + " 0x0 0x4000\n" + ENV_FILE + " 0x4000 0x4000\n";
    private static final String ROOT_PART = UBootTextEnv.ROOT_PART;
    private static final String UPGRADE_AVAILABLE = UBootTextEnv.UPGRADE_AVAILABLE;
    private static final String BOOTCOUNT = UBootTextEnv.BOOTCOUNT;
    private static final String LIMIT = UBootTextEnv.LIMIT;
    /** The boot script's variables: what it imports from the environment and saves back. */
    public static final List<String> FIRMWARE_VARIABLES = List.of(ROOT_PART, UPGRADE_AVAILABLE, BOOTCOUNT, LIMIT,
            "os_bc_skip");

    private final Path bootDir;
    private final CopyWriter writer;

    public UBootBinaryEnv(Path bootDir) {
        this(bootDir, UBootEnvCopies.IN_PLACE);
    }

    UBootBinaryEnv(Path bootDir, CopyWriter writer) {
        this.bootDir = bootDir;
        this.writer = writer;
    }

    /** The copies as they are on disk now, valid or not. */
    public List<Copy> copies() throws IOException {
        return UBootEnvCopies.read(bootDir);
    }

    @Override
    public String flavour() {
        return FLAVOUR;
    }

    Path configFile() {
        return bootDir.resolve(CONFIG_FILE);
    }

    @Override
    public BootSettings read() throws IOException {
        Copy current = UBootEnvCopies.currentOrThrow(UBootEnvCopies.read(bootDir));
        Map<String, String> vars = UBootEnvEntries.parseStrict(current);
        return settingsOf(current, vars);
    }

    /**
     * Writes the whole environment, with the new values and every other variable, into the copy that is not
     * current, its counter one past the current one's (255 wraps to 0, which wins over 255, as U-Boot and
     * libubootenv both read it). Until that copy is complete and forced, the current one stays the valid newest.
     */
    @Override
    public void write(BootSettings settings) throws IOException {
        List<Copy> copies = UBootEnvCopies.read(bootDir);
        Copy current = UBootEnvCopies.currentOrThrow(copies);
        LinkedHashMap<String, String> vars = UBootEnvEntries.parseStrict(current);
        put(vars, settings);
        Copy target = copies.size() == 1 ? current : copies.get(copies.get(0) == current ? 1 : 0);
        byte[] image = UBootEnvEntries.build(vars, copies.size() == 1 ? -1 : (current.flags() + 1) & 0xff, target.where().size(),
                target.where().file());
        if (copies.size() == 1) {
            writeSingle(target.where(), image);
        } else {
            writer.write(target.where().file(), target.where().offset(), image);
        }
        List<Copy> after;
        Copy now;
        Map<String, String> back;
        try {
            after = UBootEnvCopies.read(bootDir);
            now = UBootEnvCopies.currentOrThrow(after);
            back = UBootEnvEntries.parseStrict(now);
        } catch (BootSettingsException e) {
            throw new BootSettingsException("read-back after writing the U-Boot environment failed: "
                    + e.getMessage());
        }
        if (!now.where().equals(target.where()) || !back.equals(vars)) {
            throw new BootSettingsException("read-back of " + target.where().file() + " at offset 0x"
                    + Long.toHexString(target.where().offset()) + " differs from what was written (the copy is"
                    + (now.where().equals(target.where()) ? " current but its variables differ)" : " not current)"));
        }
    }

    /** A single copy has no second one to fall back on, so it is only written where it can be replaced whole. */
    private void writeSingle(Location where, byte[] image) throws IOException {
        if (where.offset() != 0 || Files.size(where.file()) != where.size()) {
            throw UBootText.bad(where.file(), "a single-copy environment inside a larger file cannot be written"
                    + " atomically; use the redundant layout (two lines in " + CONFIG_FILE + ")");
        }
        AtomicFiles.write(where.file(), image);
    }

    @Override
    public int bootLimit() throws IOException {
        Copy current = UBootEnvCopies.currentOrThrow(UBootEnvCopies.read(bootDir));
        String raw = UBootEnvEntries.parseStrict(current).get(LIMIT);
        if (raw == null) {
            return UBootTextEnv.DEFAULT_LIMIT;
        }
        String v = UBootText.stripTrailingBlanks(raw);
        if (!v.matches("0|[1-9][0-9]{0,8}")) {
            throw UBootText.bad(current.where().file(), LIMIT + " '" + UBootText.clip(raw)
                    + "' is not a whole number");
        }
        return Integer.parseInt(v);
    }

    @Override
    public Map<String, String> rawVariables() throws IOException {
        Copy current = UBootEnvCopies.currentOrThrow(UBootEnvCopies.read(bootDir));
        Map<String, String> vars = UBootEnvEntries.parseLenient(current);
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : new String[] {ROOT_PART, UPGRADE_AVAILABLE, BOOTCOUNT, LIMIT}) {
            if (vars.containsKey(name)) {
                out.put(name, vars.get(name));
            }
        }
        return out;
    }

    // --- creation (Bootloaders.create) ---

    /** A fresh redundant environment: both copies valid and equal (counter 1), like {@code mkenvimage -r} + cp. */
    void create(int rootPart, OptionalInt bootLimit) throws IOException {
        LinkedHashMap<String, String> vars = new LinkedHashMap<>();
        put(vars, new BootSettings(rootPart, false, 0));
        if (bootLimit.isPresent()) {
            vars.put(LIMIT, Integer.toString(bootLimit.getAsInt()));
        }
        Path file = bootDir.resolve(ENV_FILE);
        byte[] copy = UBootEnvEntries.build(vars, 1, COPY_SIZE, file);
        byte[] both = new byte[2 * COPY_SIZE];
        System.arraycopy(copy, 0, both, 0, COPY_SIZE);
        System.arraycopy(copy, 0, both, COPY_SIZE, COPY_SIZE);
        AtomicFiles.write(file, both);
        AtomicFiles.writeString(configFile(), DEFAULT_CONFIG);
        BootSettings back = read();
        if (!back.equals(new BootSettings(rootPart, false, 0))) {
            throw new BootSettingsException("read-back of new " + file + " differs: " + back);
        }
    }

    private static BootSettings settingsOf(Copy copy, Map<String, String> vars) throws BootSettingsException {
        Path file = copy.where().file();
        int root = UBootTextEnv.parseRootPart(file, UBootText.stripTrailingBlanks(
                UBootTextEnv.require(file, vars, ROOT_PART)));
        boolean flag = UBootTextEnv.parseFlag(file, UBootText.stripTrailingBlanks(
                UBootTextEnv.require(file, vars, UPGRADE_AVAILABLE)));
        int count = UBootTextEnv.parseCount(file, UBootText.stripTrailingBlanks(
                UBootTextEnv.require(file, vars, BOOTCOUNT)));
        return new BootSettings(root, flag, count);
    }

    private static void put(Map<String, String> vars, BootSettings s) {
        vars.put(ROOT_PART, Integer.toHexString(s.rootPart()));
        vars.put(UPGRADE_AVAILABLE, s.upgradeAvailable() ? "1" : "0");
        vars.put(BOOTCOUNT, Integer.toHexString(s.bootcount()));
    }
}
