package io.hupd.adapters.bootloader;

import static io.hupd.adapters.bootloader.TestFiles.requireTool;
import static io.hupd.adapters.bootloader.TestFiles.run;
import static io.hupd.adapters.bootloader.TestFiles.snapshot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.adapters.sim.SimFirmware;
import io.hupd.fs.Commands;
import io.hupd.ports.BootSettings;
import io.hupd.ports.BootSettingsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GrubEnvTest {
    @TempDir
    Path boot;
    Path file;

    @BeforeEach
    void paths() {
        file = boot.resolve("grub").resolve("grubenv");
    }

    private GrubEnv env() {
        return new GrubEnv(boot);
    }

    private Commands.Result editenv(String... args) throws IOException {
        String[] cmd = new String[args.length + 2];
        cmd[0] = "grub-editenv";
        cmd[1] = file.toString();
        System.arraycopy(args, 0, cmd, 2, args.length);
        return run(boot, cmd);
    }

    private Map<String, String> listedByGrubEditenv() throws IOException {
        Commands.Result r = editenv("list");
        assertTrue(r.ok(), r.stderr());
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : r.out().split("\n")) {
            if (!line.isEmpty()) {
                int eq = line.indexOf('=');
                out.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return out;
    }

    // --- round trips with the real grub-editenv ---

    @Test
    void everyBlockWeWriteIsListedByGrubEditenv() throws IOException {
        requireTool("grub-editenv");
        for (BootSettings s : List.of(new BootSettings(2, false, 0), new BootSettings(3, true, 0),
                new BootSettings(3, true, 1), new BootSettings(3, true, 2), new BootSettings(200, false, 12345))) {
            env().write(s);
            assertEquals(1024, Files.size(file));
            assertEquals(Map.of("resin_root_part", Integer.toString(s.rootPart()), "upgrade_available",
                    s.upgradeAvailable() ? "1" : "0", "bootcount", Integer.toString(s.bootcount())),
                    listedByGrubEditenv());
        }
    }

    @Test
    void blocksWrittenByGrubEditenvAreReadIncludingUnknownVariables() throws IOException {
        requireTool("grub-editenv");
        Files.createDirectories(file.getParent());
        assertTrue(editenv("create").ok());
        assertTrue(editenv("set", "extra_os_cmdline=quiet splash", "resin_root_part=3", "upgrade_available=1",
                "bootcount=1", "odd=back\\slash").ok());
        assertEquals(new BootSettings(3, true, 1), env().read());
        assertEquals(Map.of("resin_root_part", "3", "upgrade_available", "1", "bootcount", "1"),
                env().rawVariables());

        env().write(new BootSettings(2, false, 0));
        Map<String, String> listed = listedByGrubEditenv();
        assertEquals("quiet splash", listed.get("extra_os_cmdline"), "unknown variable kept");
        assertEquals("back\\slash", listed.get("odd"));
        assertEquals("2", listed.get("resin_root_part"));
        assertEquals(List.of("extra_os_cmdline", "resin_root_part", "upgrade_available", "bootcount", "odd"),
                List.copyOf(listed.keySet()), "order kept");
    }

    @Test
    void aValueWithANewlineFromGrubEditenvSurvivesOurWrite() throws IOException {
        requireTool("grub-editenv");
        Files.createDirectories(file.getParent());
        assertTrue(editenv("create").ok());
        assertTrue(editenv("set", "note=line1\nline2", "resin_root_part=2", "upgrade_available=0",
                "bootcount=0").ok());
        byte[] before = Files.readAllBytes(file);
        env().write(new BootSettings(2, false, 0));
        assertTrue(Arrays.equals(before, Files.readAllBytes(file)), "same variables give the same bytes");
        assertEquals("line1\nline2", GrubEnvBlock.parse(Files.readAllBytes(file)).get("note"));
    }

    @Test
    void grubEditenvCanStillSetAfterOurWriteAndWeCanStillRead() throws IOException {
        requireTool("grub-editenv");
        env().write(new BootSettings(3, true, 0));
        assertTrue(editenv("set", "x=y").ok());
        assertTrue(editenv("set", "bootcount=1").ok());
        assertEquals(1024, Files.size(file));
        assertEquals(new BootSettings(3, true, 1), env().read());
        env().write(new BootSettings(3, false, 0));
        assertEquals("y", listedByGrubEditenv().get("x"));
        assertTrue(editenv("unset", "x").ok());
        assertEquals(new BootSettings(3, false, 0), env().read());
    }

    @Test
    void blocksSavedByTheSimulatedFirmwareAreListedByGrubEditenv() throws IOException {
        requireTool("grub-editenv");
        env().write(new BootSettings(3, true, 0));
        SimFirmware.selectRoot(env());
        assertEquals("1", listedByGrubEditenv().get("bootcount"));
        SimFirmware.selectRoot(env());
        assertEquals("2", listedByGrubEditenv().get("bootcount"));
    }

    // --- where the file lives ---

    @Test
    void usesEfiBootWhenTheBootPartitionHasIt() throws IOException {
        Files.createDirectories(boot.resolve("EFI/BOOT"));
        env().write(new BootSettings(2, false, 0));
        assertTrue(Files.exists(boot.resolve("EFI/BOOT/grubenv")));
        assertFalse(Files.exists(file));
        assertEquals(new BootSettings(2, false, 0), env().read());
    }

    // --- bad input ---

    static Stream<Arguments> badBlocks() throws BootSettingsException {
        byte[] good = GrubEnvBlock.serialize(vars("3", "1", "0"));
        byte[] noHeader = good.clone();
        noHeader[0] = 'X';
        byte[] longer = Arrays.copyOf(good, 1025);
        longer[1024] = '#';
        return Stream.of(
                Arguments.of("garbage", "garbage\n".repeat(128).getBytes(StandardCharsets.US_ASCII), "header"),
                Arguments.of("truncated", Arrays.copyOf(good, 500), "is 500 bytes"),
                Arguments.of("wrong size", longer, "is 1025 bytes"),
                Arguments.of("empty", new byte[0], "is 0 bytes"),
                Arguments.of("missing header", noHeader, "header"),
                Arguments.of("missing resin_root_part", GrubEnvBlock.serialize(Map.of("upgrade_available", "0",
                        "bootcount", "0")), "no resin_root_part"),
                Arguments.of("missing bootcount", GrubEnvBlock.serialize(Map.of("resin_root_part", "2",
                        "upgrade_available", "0")), "no bootcount"),
                Arguments.of("upgrade_available=2", GrubEnvBlock.serialize(vars("3", "2", "0")), "not 0 or 1"),
                Arguments.of("hex root", GrubEnvBlock.serialize(vars("a", "0", "0")), "not a decimal"),
                Arguments.of("root 0", GrubEnvBlock.serialize(vars("0", "0", "0")), "not a decimal"),
                Arguments.of("bootcount garbage", GrubEnvBlock.serialize(vars("2", "1", "x")), "bootcount 'x'"),
                Arguments.of("duplicate key", dup(), "duplicate variable bootcount"));
    }

    private static Map<String, String> vars(String root, String flag, String count) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("resin_root_part", root);
        m.put("upgrade_available", flag);
        m.put("bootcount", count);
        return m;
    }

    private static byte[] dup() throws BootSettingsException {
        byte[] b = GrubEnvBlock.serialize(vars("3", "1", "0"));
        String s = new String(b, StandardCharsets.ISO_8859_1).replaceFirst("bootcount=0\n#{12}",
                "bootcount=0\nbootcount=1\n");
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badBlocks")
    void refusesWithAClearMessageAndChangesNothing(String label, byte[] content, String expected)
            throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, content);
        Map<String, String> before = snapshot(boot);
        BootSettingsException e = assertThrows(BootSettingsException.class, () -> env().read());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertEquals(before, snapshot(boot));
    }

    @Test
    void aBlockThatDoesNotParseIsNotOverwritten() throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, "garbage".getBytes(StandardCharsets.US_ASCII));
        assertThrows(BootSettingsException.class, () -> env().write(new BootSettings(2, false, 0)));
        assertEquals("garbage", Files.readString(file));
    }

    @Test
    void missingFileIsRefused() {
        BootSettingsException e = assertThrows(BootSettingsException.class, () -> env().read());
        assertTrue(e.getMessage().endsWith("grubenv: missing"), e.getMessage());
    }

    @Test
    void aTrailingBlankLeftByBalenasSedIsTolerated() throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, GrubEnvBlock.serialize(vars("3", "1", "0 ")));
        assertEquals(new BootSettings(3, true, 0), env().read());
        assertEquals(3, SimFirmware.selectRoot(env()), "GRUB splits the unquoted value, so \"0 \" counts as 0");
        assertEquals(new BootSettings(3, true, 1), env().read());
    }

    // --- firmware rules (balena's grub.cfg) ---

    @Test
    void oneTrialBootThenTheOldRootForGood() throws IOException {
        env().write(new BootSettings(3, true, 0));
        assertEquals(3, SimFirmware.selectRoot(env()), "1st power-on: the new root");
        assertEquals(new BootSettings(3, true, 1), env().read());
        assertEquals(2, SimFirmware.selectRoot(env()), "2nd power-on: the old root");
        assertEquals(new BootSettings(3, true, 2), env().read());
        for (int i = 0; i < 3; i++) {
            assertEquals(2, SimFirmware.selectRoot(env()), "stays on the old root");
        }
        assertEquals(new BootSettings(3, true, 2), env().read());
        assertEquals(1024, Files.size(file));
        assertEquals(1, env().bootLimit());
    }

    @Test
    void trialFromRootBBackToRootA() throws IOException {
        env().write(new BootSettings(2, true, 0));
        assertEquals(2, SimFirmware.selectRoot(env()));
        assertEquals(3, SimFirmware.selectRoot(env()));
    }

    @Test
    void noTrialNeverCounts() throws IOException {
        env().write(new BootSettings(3, false, 0));
        byte[] before = Files.readAllBytes(file);
        for (int i = 0; i < 4; i++) {
            assertEquals(3, SimFirmware.selectRoot(env()));
        }
        assertTrue(Arrays.equals(before, Files.readAllBytes(file)));
    }

    @Test
    void firmwareSaveKeepsOtherVariables() throws IOException {
        Files.createDirectories(file.getParent());
        Map<String, String> m = vars("3", "1", "0");
        m.put("extra_os_cmdline", "quiet");
        Files.write(file, GrubEnvBlock.serialize(m));
        SimFirmware.selectRoot(env());
        assertEquals("quiet", GrubEnvBlock.parse(Files.readAllBytes(file)).get("extra_os_cmdline"));
    }

    @Test
    void anUnreadableGrubenvBootsRootALikeTheUBootDefaults() throws IOException {
        assertEquals(2, SimFirmware.selectRoot(env()), "no grubenv: nothing loads, no count, root A");
        Files.createDirectories(file.getParent());
        Files.write(file, "garbage".getBytes(StandardCharsets.US_ASCII));
        assertEquals(2, SimFirmware.selectRoot(env()));
        assertEquals("garbage", Files.readString(file), "GRUB cannot save into a block it cannot open");
    }

    @Test
    void aCountGrubCannotReadDuringATrialIsPastTheLimit() throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, GrubEnvBlock.serialize(vars("3", "1", "zz")));
        assertEquals(2, SimFirmware.selectRoot(env()), "the old root, never a fresh trial");
        assertEquals(new BootSettings(3, true, 2), env().read());
        Files.write(file, GrubEnvBlock.serialize(vars("3", "0", "zz")));
        assertEquals(3, SimFirmware.selectRoot(env()), "no trial: the count is not looked at");
    }

    // --- read-back ---

    @Test
    void aWriteThatDoesNotReadBackThrows() throws IOException {
        env().write(new BootSettings(2, false, 0));
        SettingsFiles dropsUnknown = new SettingsFiles() {
            @Override
            public void write(Path target, byte[] content) throws IOException {
                byte[] b = content.clone();
                GrubEnvBlock.setInPlace(b, "upgrade_available", "0");
                SettingsFiles.ATOMIC.write(target, b);
            }

            @Override
            public void delete(Path target) throws IOException {
                SettingsFiles.ATOMIC.delete(target);
            }
        };
        BootSettingsException e = assertThrows(BootSettingsException.class,
                () -> new GrubEnv(boot, dropsUnknown).write(new BootSettings(3, true, 0)));
        assertTrue(e.getMessage().contains("read-back"), e.getMessage());
    }

    @Test
    void aWriteThatLosesAnotherVariableThrows() throws IOException {
        Files.createDirectories(file.getParent());
        Map<String, String> m = vars("2", "0", "0");
        m.put("keep", "me");
        Files.write(file, GrubEnvBlock.serialize(m));
        SettingsFiles rewrites = new SettingsFiles() {
            @Override
            public void write(Path target, byte[] content) throws IOException {
                SettingsFiles.ATOMIC.write(target, GrubEnvBlock.serialize(vars("3", "1", "0")));
            }

            @Override
            public void delete(Path target) {}
        };
        assertThrows(BootSettingsException.class,
                () -> new GrubEnv(boot, rewrites).write(new BootSettings(3, true, 0)));
    }
}
