package io.hupd.adapters.bootloader;

import io.hupd.ports.BootSettings;
import io.hupd.ports.BootSettingsException;
import io.hupd.ports.Bootloader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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
    public static final String ROOT_PART = "resin_root_part";
    public static final String UPGRADE_AVAILABLE = "upgrade_available";
    public static final String BOOTCOUNT = "bootcount";
    public static final String LIMIT = "os_bc_lim";
    public static final int DEFAULT_LIMIT = 3;

    // Built into balena's U-Boot (env_resin.h); they apply whenever a file does not override them.

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

    public Path envFile() {
        return bootDir.resolve(ENV_FILE);
    }

    public Path bootcountFile() {
        return bootDir.resolve(BOOTCOUNT_FILE);
    }

    public Path extraFile() {
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

    public static byte[] readOptional(Path file) throws IOException {
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
    public static byte[] firmwareLoad(Path file) throws IOException {
        try {
            return readOptional(file);
        } catch (io.hupd.fs.BoundedFiles.TooLarge e) {
            return null;
        }
    }
}
