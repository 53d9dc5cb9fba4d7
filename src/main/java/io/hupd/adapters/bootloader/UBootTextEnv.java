package io.hupd.adapters.bootloader;

import io.hupd.ports.BootSettings;
import io.hupd.ports.BootSettingsException;
import io.hupd.ports.Bootloader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * balenaOS's U-Boot settings: {@code resinOS_uEnv.txt} (root partition in hex and the trial flag),
 * {@code bootcount.env} (trial boots counted by the firmware) and the user's {@code extra_uEnv.txt}
 * (may lower or raise the limit {@code os_bc_lim}).
 *
 * <p>The count in {@code bootcount.env} is hex: the firmware increments it with {@code setexpr}, which reads and
 * prints hex, so after nine trial boots the file says {@code bootcount=a}. This class reads and writes it the same
 * way so that it agrees with the firmware. hupd's shipped script ({@code bootloader/uboot/boot.cmd}) checks the
 * limit with {@code test 0x${bootcount} -gt ${os_bc_lim}}, the count as hex and the limit as decimal, so a limit
 * of 10 or more falls back when it says (balena's {@code test ${bootcount} -gt} reads "a" as 0 and would not).
 */
public final class UBootTextEnv implements Bootloader {
    public static final String FLAVOUR = "uboot";
    static final String ENV_FILE = "resinOS_uEnv.txt";
    static final String BOOTCOUNT_FILE = "bootcount.env";
    static final String EXTRA_FILE = "extra_uEnv.txt";
    static final String ROOT_PART = "resin_root_part";
    static final String UPGRADE_AVAILABLE = "upgrade_available";
    static final String BOOTCOUNT = "bootcount";
    static final String LIMIT = "os_bc_lim";
    static final int DEFAULT_LIMIT = 3;

    // Built into balena's U-Boot (env_resin.h); they apply whenever a file does not override them.
    private static final int BOOT_PART = 1;
    private static final int DEFAULT_ROOT_PART = BOOT_PART + 1;

    private final Path bootDir;
    private final SettingsFiles files;

    public UBootTextEnv(Path bootDir) {
        this(bootDir, SettingsFiles.ATOMIC);
    }

    UBootTextEnv(Path bootDir, SettingsFiles files) {
        this.bootDir = bootDir;
        this.files = files;
    }

    @Override
    public String flavour() {
        return FLAVOUR;
    }

    Path envFile() {
        return bootDir.resolve(ENV_FILE);
    }

    Path bootcountFile() {
        return bootDir.resolve(BOOTCOUNT_FILE);
    }

    Path extraFile() {
        return bootDir.resolve(EXTRA_FILE);
    }

    @Override
    public BootSettings read() throws IOException {
        Path envPath = envFile();
        byte[] env = readRequired(envPath);
        Map<String, String> vars = UBootText.parseStrict(envPath, env, Set.of(ROOT_PART, UPGRADE_AVAILABLE));
        int rootPart = parseRootPart(envPath, require(envPath, vars, ROOT_PART));
        boolean upgrade = parseFlag(envPath, require(envPath, vars, UPGRADE_AVAILABLE));

        int bootcount = 0;
        Path bcPath = bootcountFile();
        byte[] bc = readOptional(bcPath);
        if (bc != null) {
            Map<String, String> bcVars = UBootText.parseStrict(bcPath, bc, Set.of(BOOTCOUNT));
            bootcount = parseCount(bcPath, require(bcPath, bcVars, BOOTCOUNT));
        }

        // extra_uEnv.txt is imported after resinOS_uEnv.txt, so it would silently win at power-on.
        byte[] extra = readOptional(extraFile());
        if (extra != null) {
            UBootText.Import imp = UBootText.importInto(extra, new HashMap<>());
            for (String owned : new String[] {ROOT_PART, UPGRADE_AVAILABLE}) {
                if (imp.touched().contains(owned)) {
                    throw UBootText.bad(extraFile(), "sets " + owned + ", which overrides " + ENV_FILE
                            + " at boot; remove that line");
                }
            }
        }
        return new BootSettings(rootPart, upgrade, bootcount);
    }

    /**
     * Clears or sets the count before naming a root: the firmware compares the count with the limit even when
     * no trial is on, so a stale count left behind by a crash between the two writes must never meet freshly
     * written settings. A crash after the first write leaves the previous settings with a count of zero, which
     * boots what booted before.
     */
    @Override
    public void write(BootSettings settings) throws IOException {
        if (settings.bootcount() == 0) {
            files.delete(bootcountFile());
        } else {
            files.write(bootcountFile(), bootcountText(settings.bootcount()).getBytes(StandardCharsets.US_ASCII));
        }
        files.write(envFile(), envText(settings).getBytes(StandardCharsets.US_ASCII));
        BootSettings back;
        try {
            back = read();
        } catch (BootSettingsException e) {
            throw new BootSettingsException("read-back after writing U-Boot settings failed: " + e.getMessage());
        }
        if (!back.equals(settings)) {
            throw new BootSettingsException("read-back of " + envFile() + " differs from what was written: wrote "
                    + settings + ", read " + back);
        }
    }

    static String envText(BootSettings s) {
        return ROOT_PART + "=" + Integer.toHexString(s.rootPart()) + "\n" + UPGRADE_AVAILABLE + "="
                + (s.upgradeAvailable() ? "1" : "0") + "\n";
    }

    static String bootcountText(int count) {
        return BOOTCOUNT + "=" + Integer.toHexString(count) + "\n";
    }

    @Override
    public int bootLimit() throws IOException {
        Path path = extraFile();
        byte[] extra = readOptional(path);
        if (extra == null) {
            return DEFAULT_LIMIT;
        }
        int assignments = countAssignments(extra, LIMIT);
        if (assignments > 1) {
            throw UBootText.bad(path, LIMIT + " is set " + assignments + " times; keep one line");
        }
        UBootText.Import imp = UBootText.importInto(extra, new HashMap<>());
        if (!imp.touched().contains(LIMIT)) {
            return DEFAULT_LIMIT;
        }
        String raw = imp.assigned().get(LIMIT);
        if (raw == null) {
            throw UBootText.bad(path, LIMIT + " has no value");
        }
        // test -gt reads the leading digits, so a trailing blank or CR (a file saved on Windows) is harmless
        String value = raw.replaceAll("[ \\t\\r]+$", "");
        if (!value.matches("0|[1-9][0-9]{0,8}")) {
            throw UBootText.bad(path, LIMIT + " '" + UBootText.clip(raw) + "' is not a whole number");
        }
        return Integer.parseInt(value);
    }

    private static int countAssignments(byte[] extra, String name) {
        int n = 0;
        for (String line : new String(extra, StandardCharsets.ISO_8859_1).split("\n")) {
            String l = line.stripLeading();
            if (l.startsWith(name + "=") || l.equals(name) || l.equals(name + "\r")) {
                n++;
            }
        }
        return n;
    }

    /**
     * The variables as the firmware would see them after loading the three files, before it counts: raw
     * strings, not validated, so that {@code hupd status} can show settings that {@link #read()} refuses.
     */
    @Override
    public Map<String, String> rawVariables() throws IOException {
        Path envPath = envFile();
        byte[] env = readRequired(envPath);
        Map<String, String> fw = new HashMap<>();
        UBootText.importInto(env, fw);
        byte[] extra = readOptional(extraFile());
        Map<String, String> extraVars = new HashMap<>();
        if (extra != null) {
            UBootText.importInto(extra, extraVars);
            UBootText.importInto(extra, fw);
        }
        byte[] bc = readOptional(bootcountFile());
        if (bc != null) {
            UBootText.importInto(bc, fw);
        } else {
            fw.put(BOOTCOUNT, "0");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : new String[] {ROOT_PART, UPGRADE_AVAILABLE, BOOTCOUNT}) {
            String v = fw.get(name);
            if (v != null) {
                out.put(name, UBootText.stripTrailingBlanks(v));
            }
        }
        if (extraVars.containsKey(LIMIT)) {
            out.put(LIMIT, UBootText.stripTrailingBlanks(extraVars.get(LIMIT)));
        }
        return out;
    }

    /**
     * One power-on as hupd's {@code bootloader/uboot/boot.cmd} does it (balena's {@code resin_set_kernel_root}
     * rules, with the limit compared in hex; {@code FirmwareTable} checks it in the real U-Boot). Files are imported
     * leniently over the built-in defaults, as {@code env import -t} does, so settings that do not parse
     * simply leave the defaults in place: root partition 2, no trial, limit 3. A root partition value that
     * U-Boot cannot use as a partition number would make the real boot fail; the simulation boots the default
     * root 2 instead. The count is saved as {@code env export -t} leaves it, {@code bootcount=N\n} and a NUL,
     * with a plain overwrite, as {@code fatwrite} does, and the fallback to the other root happens in memory only.
     */
    @Override
    public int firmwareSelectRoot() throws IOException {
        int rootA = BOOT_PART + 1;
        int rootB = BOOT_PART + 2;
        Map<String, String> env = new HashMap<>();
        env.put(ROOT_PART, Integer.toHexString(DEFAULT_ROOT_PART));
        env.put(UPGRADE_AVAILABLE, "0 ");
        env.put(LIMIT, Integer.toString(DEFAULT_LIMIT));
        env.put("os_bc_skip", "0");
        importIfPresent(envFile(), env);
        importIfPresent(extraFile(), env);
        if (!importIfPresent(bootcountFile(), env)) {
            env.put(BOOTCOUNT, "0");
        }

        if ("0".equals(UBootText.firstWord(env.get("os_bc_skip")))
                && "1".equals(UBootText.firstWord(env.get(UPGRADE_AVAILABLE)))) {
            long count = UBootText.hexPrefix(UBootText.firstWord(env.get(BOOTCOUNT))) + 1;
            env.put(BOOTCOUNT, Long.toHexString(count));
            fatwrite(bootcountFile(), BOOTCOUNT + "=" + Long.toHexString(count) + "\n\0");
        }

        String root = UBootText.firstWord(env.get(ROOT_PART));
        String limit = UBootText.firstWord(env.get(LIMIT));
        if (limit != null) {
            long count = UBootText.hexPrefix(UBootText.firstWord(env.get(BOOTCOUNT)));
            if (count > UBootText.decimalPrefix(limit)) {
                // the script compares strings with setexpr's hex output for root A; anything else means "go to A"
                root = Integer.toHexString(rootA).equals(root) ? Integer.toHexString(rootB)
                        : Integer.toHexString(rootA);
            }
        }
        long part = UBootText.hexWhole(root);
        if (part < 1 || part > 0xff) {
            return DEFAULT_ROOT_PART;
        }
        return (int) part;
    }

    private static boolean importIfPresent(Path file, Map<String, String> env) throws IOException {
        byte[] content = firmwareLoad(file);
        if (content == null) {
            return false;
        }
        UBootText.importInto(content, env);
        return true;
    }

    /** Like U-Boot's fatwrite: the file is replaced by these bytes in place, not atomically. */
    private static void fatwrite(Path file, String exported) throws IOException {
        byte[] out = exported.getBytes(StandardCharsets.US_ASCII);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(out);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
    }

    // --- creation (Bootloaders.create) ---

    void create(int rootPart, java.util.OptionalInt bootLimit) throws IOException {
        if (bootLimit.isPresent()) {
            setLimit(bootLimit.getAsInt());
        }
        write(new BootSettings(rootPart, false, 0));
    }

    /** Replaces any os_bc_lim lines of extra_uEnv.txt and keeps the user's other lines as they are. */
    private void setLimit(int limit) throws IOException {
        byte[] existing = readOptional(extraFile());
        StringBuilder out = new StringBuilder();
        if (existing != null) {
            String text = new String(existing, StandardCharsets.ISO_8859_1);
            String[] lines = text.split("\n", -1);
            // a final newline leaves an empty last piece that is not a line of its own
            int count = text.endsWith("\n") ? lines.length - 1 : lines.length;
            for (int i = 0; i < count; i++) {
                String l = lines[i].stripLeading();
                if (!(l.startsWith(LIMIT + "=") || l.equals(LIMIT) || l.equals(LIMIT + "\r"))) {
                    out.append(lines[i]).append('\n');
                }
            }
        }
        out.append(LIMIT).append('=').append(limit).append('\n');
        files.write(extraFile(), out.toString().getBytes(StandardCharsets.ISO_8859_1));
    }

    // --- value rules ---

    static int parseRootPart(Path file, String v) throws BootSettingsException {
        // the firmware compares the value as a string with setexpr's lower-case hex, so only that form is safe
        if (!v.matches("[1-9a-f][0-9a-f]?")) {
            throw UBootText.bad(file, ROOT_PART + " '" + UBootText.clip(v) + "' is not a partition number in"
                    + " lower-case hex without 0x or leading zeros (e.g. 2, 3, a)");
        }
        return Integer.parseInt(v, 16);
    }

    static boolean parseFlag(Path file, String v) throws BootSettingsException {
        return switch (v) {
            case "0" -> false;
            case "1" -> true;
            default -> throw UBootText.bad(file, UPGRADE_AVAILABLE + " '" + UBootText.clip(v) + "' is not 0 or 1");
        };
    }

    static int parseCount(Path file, String v) throws BootSettingsException {
        if (!v.matches("0|[1-9a-f][0-9a-f]{0,6}")) {
            throw UBootText.bad(file, BOOTCOUNT + " '" + UBootText.clip(v) + "' is not a count (lower-case hex,"
                    + " as the firmware's setexpr writes it)");
        }
        return Integer.parseInt(v, 16);
    }

    static String require(Path file, Map<String, String> vars, String name) throws BootSettingsException {
        String v = vars.get(name);
        if (v == null) {
            throw UBootText.bad(file, "no " + name + " line");
        }
        return v;
    }

    static byte[] readRequired(Path file) throws IOException {
        try {
            return io.hupd.fs.BoundedFiles.read(file, io.hupd.fs.BoundedFiles.SETTINGS);
        } catch (NoSuchFileException e) {
            throw UBootText.bad(file, "missing");
        }
    }

    static byte[] readOptional(Path file) throws IOException {
        try {
            return io.hupd.fs.BoundedFiles.read(file, io.hupd.fs.BoundedFiles.SETTINGS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * The firmware's load of a settings file: one larger than the settings cap does not fit where the boot
     * script loads it, so the load fails and, as with a missing file, nothing is imported (the script's
     * {@code if fatload ...; then env import ...; fi}).
     */
    static byte[] firmwareLoad(Path file) throws IOException {
        try {
            return readOptional(file);
        } catch (io.hupd.fs.BoundedFiles.TooLarge e) {
            return null;
        }
    }
}
