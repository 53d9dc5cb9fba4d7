package io.hupd.adapters.bootloader;

import io.hupd.ports.BootSettings;
import io.hupd.ports.BootSettingsException;
import io.hupd.ports.Bootloader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * balenaOS's GRUB settings: one environment block, {@code grubenv}, in {@code EFI/BOOT/} when the boot partition
 * has that folder (EFI boot) and in {@code grub/} otherwise, which is also where GRUB's {@code $prefix} points in
 * each case. Variables: {@code resin_root_part} (decimal), {@code upgrade_available}, {@code bootcount}; any
 * other variable in the block is kept as it is.
 */
public final class GrubEnv implements Bootloader {
    public static final String FLAVOUR = "grub";
    public static final String ROOT_PART = "resin_root_part";
    public static final String UPGRADE_AVAILABLE = "upgrade_available";
    public static final String BOOTCOUNT = "bootcount";
    /** The variables hupd owns in grubenv; others are kept as they are. */
    public static final List<String> OWNED = List.of(ROOT_PART, UPGRADE_AVAILABLE, BOOTCOUNT);

    private final Path bootDir;
    private final SettingsFiles files;

    public GrubEnv(Path bootDir) {
        this(bootDir, SettingsFiles.ATOMIC);
    }

    GrubEnv(Path bootDir, SettingsFiles files) {
        this.bootDir = bootDir;
        this.files = files;
    }

    @Override
    public String flavour() {
        return FLAVOUR;
    }

    public Path envFile() {
        Path efi = bootDir.resolve("EFI").resolve("BOOT");
        return (Files.isDirectory(efi) ? efi : bootDir.resolve("grub")).resolve("grubenv");
    }

    @Override
    public BootSettings read() throws IOException {
        Path file = envFile();
        Map<String, String> vars = parseFile(file, UBootTextEnv.readRequired(file));
        int root = number(file, vars, ROOT_PART, "[1-9][0-9]{0,2}");
        if (root > 0xff) {
            throw UBootText.bad(file, ROOT_PART + " " + root + " is not a partition number");
        }
        String flag = value(file, vars, UPGRADE_AVAILABLE);
        if (!flag.equals("0") && !flag.equals("1")) {
            throw UBootText.bad(file, UPGRADE_AVAILABLE + " '" + UBootText.clip(flag) + "' is not 0 or 1");
        }
        int count = number(file, vars, BOOTCOUNT, "0|[1-9][0-9]{0,8}");
        return new BootSettings(root, flag.equals("1"), count);
    }

    /**
     * Replaces the whole block atomically, unlike grub-editenv, which truncates and rewrites the file in place
     * (a power cut then leaves an empty or partial block that GRUB refuses). Other variables in the block are
     * kept; a block that does not parse is not overwritten, since what else it held cannot be known.
     */
    @Override
    public void write(BootSettings settings) throws IOException {
        Path file = envFile();
        byte[] existing = UBootTextEnv.readOptional(file);
        LinkedHashMap<String, String> vars = existing == null ? new LinkedHashMap<>() : parseFile(file, existing);
        vars.put(ROOT_PART, Integer.toString(settings.rootPart()));
        vars.put(UPGRADE_AVAILABLE, settings.upgradeAvailable() ? "1" : "0");
        vars.put(BOOTCOUNT, Integer.toString(settings.bootcount()));
        byte[] block;
        try {
            block = GrubEnvBlock.serialize(vars);
        } catch (BootSettingsException e) {
            throw UBootText.bad(file, e.getMessage());
        }
        files.write(file, block);
        Map<String, String> backVars;
        BootSettings back;
        try {
            backVars = parseFile(file, UBootTextEnv.readRequired(file));
            back = read();
        } catch (BootSettingsException e) {
            throw new BootSettingsException("read-back after writing GRUB settings failed: " + e.getMessage());
        }
        if (!back.equals(settings) || !backVars.equals(vars)) {
            throw new BootSettingsException("read-back of " + file + " differs from what was written: wrote "
                    + vars + ", read " + backVars);
        }
    }

    /**
     * balena's grub.cfg gives a new OS one trial boot: the first counts to 1 and boots it, the second counts to 2
     * and boots the other root. So the limit in U-Boot's sense (failed boots tolerated) is 1, and it is fixed.
     */
    @Override
    public int bootLimit() {
        return 1;
    }

    /** The owned variables as GRUB's load_env would load them, unvalidated, for {@code hupd status}. */
    @Override
    public Map<String, String> rawVariables() throws IOException {
        Path file = envFile();
        Map<String, String> loaded = GrubEnvBlock.loadLenient(UBootTextEnv.readRequired(file));
        if (loaded == null) {
            throw UBootText.bad(file, "does not start with the header '# GRUB Environment Block'");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : OWNED) {
            if (loaded.containsKey(name)) {
                out.put(name, loaded.get(name));
            }
        }
        return out;
    }

    // --- creation (Bootloaders.create) ---

    /**
     * Fresh settings; variables of another owner already in a valid block (for instance one shipped in the OS's
     * boot files) are kept, a block that does not parse is replaced.
     */
    void create(int rootPart) throws IOException {
        Path file = envFile();
        byte[] existing = UBootTextEnv.readOptional(file);
        if (existing != null) {
            try {
                GrubEnvBlock.parse(existing);
            } catch (BootSettingsException e) {
                files.delete(file);
            }
        }
        write(new BootSettings(rootPart, false, 0));
    }

    // --- helpers ---

    private static LinkedHashMap<String, String> parseFile(Path file, byte[] content) throws BootSettingsException {
        try {
            return GrubEnvBlock.parse(content);
        } catch (BootSettingsException e) {
            throw UBootText.bad(file, e.getMessage());
        }
    }

    /** GRUB splits an unquoted value into words, so trailing blanks are harmless; nothing else is accepted. */
    private static String value(Path file, Map<String, String> vars, String name) throws BootSettingsException {
        String v = vars.get(name);
        if (v == null) {
            throw UBootText.bad(file, "no " + name + " variable");
        }
        return UBootText.stripTrailingBlanks(v);
    }

    private static int number(Path file, Map<String, String> vars, String name, String pattern)
            throws BootSettingsException {
        String v = value(file, vars, name);
        if (!v.matches(pattern)) {
            throw UBootText.bad(file, name + " '" + UBootText.clip(v) + "' is not a decimal number");
        }
        return Integer.parseInt(v);
    }
}
