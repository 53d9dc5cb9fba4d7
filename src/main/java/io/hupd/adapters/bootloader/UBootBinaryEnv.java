package io.hupd.adapters.bootloader;

import io.hupd.fs.AtomicFiles;
import io.hupd.ports.BootSettings;
import io.hupd.ports.BootSettingsException;
import io.hupd.ports.Bootloader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
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
    private static final List<String> FIRMWARE_VARIABLES = List.of(ROOT_PART, UPGRADE_AVAILABLE, BOOTCOUNT, LIMIT,
            "os_bc_skip");
    private static final int ROOT_A = 2;
    private static final int ROOT_B = 3;

    /** Puts one copy's bytes on disk; swapped in tests to simulate torn or lost writes. */
    interface CopyWriter {
        void write(Path file, long offset, byte[] copy) throws IOException;
    }

    /** In place and forced: the other copy stays intact until this one is complete, which is the atomicity. */
    static final CopyWriter IN_PLACE = (file, offset, copy) -> {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(copy);
            long pos = offset;
            while (buf.hasRemaining()) {
                pos += ch.write(buf, pos);
            }
            ch.force(true);
        }
    };

    record Location(Path file, long offset, int size) {}

    /** One copy as read: {@code flags} is -1 in the single-copy layout. */
    record Copy(Location where, boolean crcOk, int flags, byte[] raw) {
        int dataStart() {
            return flags < 0 ? 4 : 5;
        }
    }

    private final Path bootDir;
    private final CopyWriter writer;

    public UBootBinaryEnv(Path bootDir) {
        this(bootDir, IN_PLACE);
    }

    UBootBinaryEnv(Path bootDir, CopyWriter writer) {
        this.bootDir = bootDir;
        this.writer = writer;
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
        Copy current = currentOrThrow(readCopies());
        Map<String, String> vars = parseStrict(current);
        return settingsOf(current, vars);
    }

    /**
     * Writes the whole environment, with the new values and every other variable, into the copy that is not
     * current, its counter one past the current one's (255 wraps to 0, which wins over 255, as U-Boot and
     * libubootenv both read it). Until that copy is complete and forced, the current one stays the valid newest.
     */
    @Override
    public void write(BootSettings settings) throws IOException {
        List<Copy> copies = readCopies();
        Copy current = currentOrThrow(copies);
        LinkedHashMap<String, String> vars = parseStrict(current);
        put(vars, settings);
        Copy target = copies.size() == 1 ? current : copies.get(copies.get(0) == current ? 1 : 0);
        byte[] image = build(vars, copies.size() == 1 ? -1 : (current.flags() + 1) & 0xff, target.where().size(),
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
            after = readCopies();
            now = currentOrThrow(after);
            back = parseStrict(now);
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
        Copy current = currentOrThrow(readCopies());
        String raw = parseStrict(current).get(LIMIT);
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
        Copy current = currentOrThrow(readCopies());
        Map<String, String> vars = parseLenient(current);
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : new String[] {ROOT_PART, UPGRADE_AVAILABLE, BOOTCOUNT, LIMIT}) {
            if (vars.containsKey(name)) {
                out.put(name, vars.get(name));
            }
        }
        return out;
    }

    /**
     * One power-on with hupd's {@code bootloader/uboot/boot-env.cmd} over this environment (balena's rules, the
     * limit compared in hex; {@code FirmwareTable} checks it in the real U-Boot). Only the script's variables
     * (root, flag, count, limit, {@code os_bc_skip}) are imported and saved; others in the file are dropped by a
     * counted boot. The copy is chosen as U-Boot's
     * {@code env_check_redund} does; with no valid copy U-Boot runs on its built-in defaults (root 2, no trial)
     * and saves nothing. Variables the stored environment lacks take the script's defaults. The count is saved
     * as U-Boot's {@code saveenv} does: the whole environment into the other copy with the counter plus one.
     * The fallback to the other root is in memory only.
     */
    @Override
    public int firmwareSelectRoot() throws IOException {
        List<Copy> copies;
        try {
            copies = readCopies();
        } catch (BootSettingsException e) {
            return ROOT_A;
        }
        Copy current = current(copies);
        LinkedHashMap<String, String> stored = new LinkedHashMap<>();
        if (current != null) {
            // the script imports and saves only these: the firmware's own variables stay out of the file
            parseLenient(current).forEach((k, v) -> {
                if (FIRMWARE_VARIABLES.contains(k)) {
                    stored.put(k, v);
                }
            });
        }
        Map<String, String> env = new HashMap<>();
        env.put(ROOT_PART, Integer.toHexString(ROOT_A));
        env.put(UPGRADE_AVAILABLE, "0");
        env.put(LIMIT, Integer.toString(UBootTextEnv.DEFAULT_LIMIT));
        env.put("os_bc_skip", "0");
        env.put(BOOTCOUNT, "0");
        env.putAll(stored);

        if (current != null && "0".equals(UBootText.firstWord(env.get("os_bc_skip")))
                && "1".equals(UBootText.firstWord(env.get(UPGRADE_AVAILABLE)))) {
            String count = Long.toHexString(UBootText.hexPrefix(UBootText.firstWord(env.get(BOOTCOUNT))) + 1);
            env.put(BOOTCOUNT, count);
            stored.put(BOOTCOUNT, count);
            Copy target = copies.size() == 1 ? current : copies.get(copies.get(0) == current ? 1 : 0);
            byte[] image = buildLenient(stored, copies.size() == 1 ? -1 : (current.flags() + 1) & 0xff,
                    target.where().size());
            if (image != null) {
                IN_PLACE.write(target.where().file(), target.where().offset(), image);
            }
        }

        String root = UBootText.firstWord(env.get(ROOT_PART));
        String limit = UBootText.firstWord(env.get(LIMIT));
        if (limit != null && UBootText.hexPrefix(UBootText.firstWord(env.get(BOOTCOUNT)))
                > UBootText.decimalPrefix(limit)) {
            root = Integer.toHexString(ROOT_A).equals(root) ? Integer.toHexString(ROOT_B)
                    : Integer.toHexString(ROOT_A);
        }
        long part = UBootText.hexWhole(root);
        return part < 1 || part > 0xff ? ROOT_A : (int) part;
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
        byte[] copy = build(vars, 1, COPY_SIZE, file);
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

    // --- layout ---

    /** The copies fw_env.config describes, in its order; libubootenv's config syntax, minus MTD/UBI devices. */
    List<Location> locations() throws IOException {
        Path config = configFile();
        List<String> lines;
        try {
            lines = java.util.Arrays.asList(new String(io.hupd.fs.BoundedFiles.read(config,
                    io.hupd.fs.BoundedFiles.SMALL), StandardCharsets.ISO_8859_1).split("\r?\n"));
        } catch (NoSuchFileException e) {
            throw UBootText.bad(config, "missing");
        }
        List<Location> out = new ArrayList<>();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] cols = line.split("\\s+");
            if (cols.length < 3) {
                throw UBootText.bad(config, "line " + (n + 1) + " needs: file offset size");
            }
            long offset = number(config, n + 1, cols[1]);
            long size = number(config, n + 1, cols[2]);
            if (size < 8 || size > (1 << 20)) {
                throw UBootText.bad(config, "line " + (n + 1) + ": environment size " + cols[2] + " out of range");
            }
            out.add(new Location(bootDir.resolve(cols[0]), offset, (int) size));
        }
        if (out.isEmpty() || out.size() > 2) {
            throw UBootText.bad(config, "describes " + out.size() + " copies; expected 1 or 2");
        }
        if (out.size() == 2 && out.get(0).size() != out.get(1).size()) {
            throw UBootText.bad(config, "the two copies differ in size");
        }
        return out;
    }

    private static long number(Path config, int line, String s) throws BootSettingsException {
        try {
            return s.startsWith("0x") || s.startsWith("0X") ? Long.parseLong(s.substring(2), 16) : Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw UBootText.bad(config, "line " + line + ": '" + UBootText.clip(s) + "' is not a number");
        }
    }

    List<Copy> readCopies() throws IOException {
        List<Location> where = locations();
        List<Copy> copies = new ArrayList<>();
        for (Location l : where) {
            byte[] raw = new byte[l.size()];
            try (FileChannel ch = FileChannel.open(l.file(), StandardOpenOption.READ)) {
                ByteBuffer buf = ByteBuffer.wrap(raw);
                long pos = l.offset();
                while (buf.hasRemaining()) {
                    int r = ch.read(buf, pos);
                    if (r < 0) {
                        throw UBootText.bad(l.file(), "ends before the copy at offset 0x" + Long.toHexString(l.offset())
                                + " of 0x" + Integer.toHexString(l.size()) + " bytes");
                    }
                    pos += r;
                }
            } catch (NoSuchFileException e) {
                throw UBootText.bad(l.file(), "missing");
            }
            int dataStart = where.size() == 2 ? 5 : 4;
            CRC32 crc = new CRC32();
            crc.update(raw, dataStart, raw.length - dataStart);
            long stored = ByteBuffer.wrap(raw, 0, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
            copies.add(new Copy(l, crc.getValue() == stored, where.size() == 2 ? raw[4] & 0xff : -1, raw));
        }
        return copies;
    }

    /** U-Boot's and libubootenv's choice: the valid copy; of two, the higher counter, 0 beating 255, ties the first. */
    static Copy current(List<Copy> copies) {
        if (copies.size() == 1) {
            return copies.get(0).crcOk() ? copies.get(0) : null;
        }
        Copy a = copies.get(0);
        Copy b = copies.get(1);
        if (a.crcOk() != b.crcOk()) {
            return a.crcOk() ? a : b;
        }
        if (!a.crcOk()) {
            return null;
        }
        if (a.flags() == 0xff && b.flags() == 0) {
            return b;
        }
        if (b.flags() == 0xff && a.flags() == 0) {
            return a;
        }
        return b.flags() > a.flags() ? b : a;
    }

    private static Copy currentOrThrow(List<Copy> copies) throws BootSettingsException {
        Copy c = current(copies);
        if (c == null) {
            Path file = copies.get(0).where().file();
            throw UBootText.bad(file, copies.size() == 2 ? "neither copy has a valid CRC (U-Boot would boot on its"
                    + " built-in defaults)" : "the environment's CRC does not match");
        }
        return c;
    }

    /** Entries up to the empty one; refuses what U-Boot would read differently or hupd could not write back. */
    static LinkedHashMap<String, String> parseStrict(Copy copy) throws BootSettingsException {
        byte[] raw = copy.raw();
        Path file = copy.where().file();
        String at = " in the copy at offset 0x" + Long.toHexString(copy.where().offset());
        LinkedHashMap<String, String> vars = new LinkedHashMap<>();
        int p = copy.dataStart();
        while (true) {
            if (p >= raw.length) {
                throw UBootText.bad(file, "entries run to the end of the environment" + at);
            }
            if (raw[p] == 0) {
                return vars;
            }
            int start = p;
            while (p < raw.length && raw[p] != 0) {
                p++;
            }
            if (p >= raw.length) {
                throw UBootText.bad(file, "entries run to the end of the environment" + at);
            }
            String entry = new String(raw, start, p - start, StandardCharsets.ISO_8859_1);
            p++;
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw UBootText.bad(file, "malformed entry '" + UBootText.clip(entry) + "'" + at);
            }
            String name = entry.substring(0, eq);
            if (vars.put(name, entry.substring(eq + 1)) != null) {
                throw UBootText.bad(file, "duplicate variable " + name + at);
            }
        }
    }

    private static LinkedHashMap<String, String> parseLenient(Copy copy) {
        byte[] raw = copy.raw();
        LinkedHashMap<String, String> vars = new LinkedHashMap<>();
        int p = copy.dataStart();
        while (p < raw.length && raw[p] != 0) {
            int start = p;
            while (p < raw.length && raw[p] != 0) {
                p++;
            }
            String entry = new String(raw, start, p - start, StandardCharsets.ISO_8859_1);
            p++;
            int eq = entry.indexOf('=');
            if (eq > 0 && eq < entry.length() - 1) {
                vars.put(entry.substring(0, eq), entry.substring(eq + 1));
            } else if (eq != 0) {
                vars.remove(eq < 0 ? entry : entry.substring(0, eq));
            }
        }
        return vars;
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

    private static byte[] build(Map<String, String> vars, int flags, int size, Path file) throws BootSettingsException {
        byte[] image = buildLenient(vars, flags, size);
        if (image == null) {
            throw UBootText.bad(file, "the variables do not fit in an environment of 0x" + Integer.toHexString(size)
                    + " bytes");
        }
        return image;
    }

    /** One copy's bytes, zero padded as U-Boot's env export leaves them; null when the variables do not fit. */
    private static byte[] buildLenient(Map<String, String> vars, int flags, int size) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Map.Entry<String, String> e : vars.entrySet()) {
            data.writeBytes((e.getKey() + "=" + e.getValue()).getBytes(StandardCharsets.ISO_8859_1));
            data.write(0);
        }
        data.write(0);
        int dataStart = flags < 0 ? 4 : 5;
        if (dataStart + data.size() > size) {
            return null;
        }
        byte[] image = new byte[size];
        System.arraycopy(data.toByteArray(), 0, image, dataStart, data.size());
        if (flags >= 0) {
            image[4] = (byte) flags;
        }
        CRC32 crc = new CRC32();
        crc.update(image, dataStart, size - dataStart);
        ByteBuffer.wrap(image, 0, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue());
        return image;
    }
}
