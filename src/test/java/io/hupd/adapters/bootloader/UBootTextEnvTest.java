package io.hupd.adapters.bootloader;

import static io.hupd.adapters.bootloader.TestFiles.names;
import static io.hupd.adapters.bootloader.TestFiles.snapshot;
import static io.hupd.adapters.bootloader.TestFiles.text;
import static io.hupd.adapters.bootloader.TestFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.adapters.sim.SimFirmware;
import io.hupd.ports.BootSettings;
import io.hupd.ports.BootSettingsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class UBootTextEnvTest {
    @TempDir
    Path boot;

    private UBootTextEnv env() {
        return new UBootTextEnv(boot);
    }

    private Path uEnv() {
        return boot.resolve("resinOS_uEnv.txt");
    }

    private Path bootcount() {
        return boot.resolve("bootcount.env");
    }

    private Path extra() {
        return boot.resolve("extra_uEnv.txt");
    }

    // --- format ---

    @Test
    void writesExactlyTheTwoLinesBalenasHookWrites() throws IOException {
        env().write(new BootSettings(3, true, 0));
        assertEquals("resin_root_part=3\nupgrade_available=1\n", text(uEnv()));
        assertFalse(Files.exists(bootcount()), "a zero count is a missing bootcount.env");
        assertEquals(new BootSettings(3, true, 0), env().read());
    }

    @Test
    void partitionAndCountAreHex() throws IOException {
        env().write(new BootSettings(10, false, 11));
        assertEquals("resin_root_part=a\nupgrade_available=0\n", text(uEnv()));
        assertEquals("bootcount=b\n", text(bootcount()));
        assertEquals(new BootSettings(10, false, 11), env().read());
    }

    @Test
    void aZeroCountDeletesBootcountEnv() throws IOException {
        env().write(new BootSettings(3, true, 2));
        assertTrue(Files.exists(bootcount()));
        env().write(new BootSettings(2, false, 0));
        assertFalse(Files.exists(bootcount()));
        assertEquals(new BootSettings(2, false, 0), env().read());
    }

    @Test
    void toleratesWhatUBootReadsTheSameWay() throws IOException {
        // leading blanks, comments, blank lines, trailing blanks (balena's own rollback-stop writes
        // "bootcount=0 "), no final newline, and the NUL the firmware's 13-byte fatwrite leaves
        write(uEnv(), "# written by hand\n\n  resin_root_part=3 \t\n\tupgrade_available=1");
        Files.write(bootcount(), "bootcount=2\n\0".getBytes(StandardCharsets.US_ASCII));
        assertEquals(new BootSettings(3, true, 2), env().read());
        write(bootcount(), "bootcount=0 \n");
        assertEquals(new BootSettings(3, true, 0), env().read());
    }

    // --- bad input: a clear error, and nothing changed ---

    static Stream<Arguments> badSettings() {
        String ok = "resin_root_part=3\nupgrade_available=1\n";
        return Stream.of(
                Arguments.of("binary garbage", "\u0001\u0002\u00ff\u00fe", null, null, "unexpected byte"),
                Arguments.of("text without '='", "hello world\n", null, null, "no '='"),
                Arguments.of("empty file", "", null, null, "no resin_root_part"),
                Arguments.of("missing key", "resin_root_part=3\n", null, null, "no upgrade_available"),
                Arguments.of("bad hex", "resin_root_part=g\nupgrade_available=0\n", null, null, "lower-case hex"),
                Arguments.of("0x prefix", "resin_root_part=0x3\nupgrade_available=0\n", null, null, "without 0x"),
                Arguments.of("upper-case hex", "resin_root_part=A\nupgrade_available=0\n", null, null, "lower-case"),
                Arguments.of("leading zero", "resin_root_part=03\nupgrade_available=0\n", null, null, "leading zeros"),
                Arguments.of("partition 0", "resin_root_part=0\nupgrade_available=0\n", null, null, "resin_root_part"),
                Arguments.of("upgrade_available=2", "resin_root_part=3\nupgrade_available=2\n", null, null,
                        "is not 0 or 1"),
                Arguments.of("duplicate key", ok + "resin_root_part=2\n", null, null, "duplicate resin_root_part"),
                Arguments.of("CRLF", "resin_root_part=3\r\nupgrade_available=1\r\n", null, null, "CR"),
                Arguments.of("empty value deletes", "resin_root_part=3\nupgrade_available=\n", null, null,
                        "has no value"),
                Arguments.of("unknown variable", ok + "bootcmd=reset\n", null, null, "unexpected variable 'bootcmd'"),
                Arguments.of("space before '='", "resin_root_part =3\nupgrade_available=1\n", null, null,
                        "malformed variable name"),
                Arguments.of("backslash escape", "resin_root_part=\\3\nupgrade_available=1\n", null, null,
                        "backslash"),
                Arguments.of("data after NUL", "resin_root_part=3\n\0upgrade_available=1\n", null, null,
                        "after a NUL"),
                Arguments.of("comment after value", "resin_root_part=3 # B\nupgrade_available=1\n", null, null,
                        "lower-case hex"),
                Arguments.of("bootcount garbage", ok, "bootcount=x\n", null, "bootcount 'x'"),
                Arguments.of("bootcount negative", ok, "bootcount=-1\n", null, "bootcount '-1'"),
                Arguments.of("bootcount.env empty", ok, "", null, "no bootcount"),
                Arguments.of("bootcount.env other var", ok, "resin_root_part=2\n", null, "unexpected variable"),
                Arguments.of("extra overrides root", ok, null, "resin_root_part=2\n", "overrides"),
                Arguments.of("extra deletes flag", ok, null, "upgrade_available\n", "overrides"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badSettings")
    void refusesWithAClearMessageAndChangesNothing(String label, String uEnvText, String bootcountText,
            String extraText, String expected) throws IOException {
        write(uEnv(), uEnvText);
        if (bootcountText != null) {
            write(bootcount(), bootcountText);
        }
        if (extraText != null) {
            write(extra(), extraText);
        }
        Map<String, String> before = snapshot(boot);
        BootSettingsException e = assertThrows(BootSettingsException.class, () -> env().read());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().contains(boot.toString()), "names the file: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertEquals(before, snapshot(boot));
    }

    @Test
    void missingSettingsFileIsRefused() {
        BootSettingsException e = assertThrows(BootSettingsException.class, () -> env().read());
        assertTrue(e.getMessage().contains("resinOS_uEnv.txt: missing"), e.getMessage());
    }

    // --- firmware rules (balena's env_resin.h) ---

    @Test
    void limitThreeNewRootForThreePowerOnsThenTheOldOne() throws IOException {
        env().write(new BootSettings(3, true, 0));
        String settings = text(uEnv());
        for (int boot = 1; boot <= 3; boot++) {
            assertEquals(3, SimFirmware.selectRoot(env()), "power-on " + boot);
            assertEquals("bootcount=" + boot + "\n\0", text(bootcount()), "fatwrite of 13 bytes");
            assertEquals(boot, env().read().bootcount());
        }
        assertEquals(2, SimFirmware.selectRoot(env()), "4th power-on: bootcount 4 > os_bc_lim 3");
        assertEquals(2, SimFirmware.selectRoot(env()));
        assertEquals(settings, text(uEnv()), "the flip happens in memory only");
        assertEquals(new BootSettings(3, true, 5), env().read());
    }

    @Test
    void limitFromExtraUEnvIsHonoured() throws IOException {
        write(extra(), "extra_os_cmdline=quiet\r\nos_bc_lim=1\r\n");
        env().write(new BootSettings(2, true, 0));
        assertEquals(1, env().bootLimit());
        assertEquals(2, SimFirmware.selectRoot(env()));
        assertEquals(3, SimFirmware.selectRoot(env()));
    }

    @Test
    void noTrialNeverCounts() throws IOException {
        env().write(new BootSettings(3, false, 0));
        for (int i = 0; i < 6; i++) {
            assertEquals(3, SimFirmware.selectRoot(env()));
        }
        assertFalse(Files.exists(bootcount()));
    }

    @Test
    void countingCanBeSkippedFromExtraUEnv() throws IOException {
        write(extra(), "os_bc_skip=1\n");
        env().write(new BootSettings(3, true, 0));
        for (int i = 0; i < 5; i++) {
            assertEquals(3, SimFirmware.selectRoot(env()));
        }
        assertFalse(Files.exists(bootcount()));
    }

    @Test
    void staleCountAboveTheLimitFlipsEvenWithoutATrial() throws IOException {
        // balena's script checks the limit whatever upgrade_available says; this is why write() clears the
        // count before it names a root
        write(uEnv(), "resin_root_part=2\nupgrade_available=0\n");
        write(bootcount(), "bootcount=4\n");
        assertEquals(3, SimFirmware.selectRoot(env()));
    }

    @Test
    void countIsHexAsSetexprWritesItAndALimitOfTenFallsBackOnTime() throws IOException {
        // setexpr counts 9, a, b, ...; the shipped script compares 0x${bootcount}, so "b" is eleven, past ten
        write(extra(), "os_bc_lim=10\n");
        env().write(new BootSettings(3, true, 0));
        List<Integer> roots = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            roots.add(SimFirmware.selectRoot(env()));
        }
        assertEquals(List.of(3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2), roots);
        assertEquals("bootcount=c\n\0", text(bootcount()));
        assertEquals(0xc, env().read().bootcount());
        write(bootcount(), "bootcount=ff\n\0");
        SimFirmware.selectRoot(env());
        assertEquals("bootcount=100\n\0", text(bootcount()), "the whole export, NUL included, past 13 bytes");
    }

    @Test
    void settingsThatDoNotParseLeaveTheFirmwareOnItsDefaults() throws IOException {
        assertEquals(2, SimFirmware.selectRoot(env()), "no resinOS_uEnv.txt at all");
        write(uEnv(), "\u0001\u0002garbage\n");
        assertEquals(2, SimFirmware.selectRoot(env()));
        write(uEnv(), "resin_root_part=zz\nupgrade_available=0\n");
        assertEquals(2, SimFirmware.selectRoot(env()), "a root U-Boot cannot use: default root");
        assertFalse(Files.exists(bootcount()));
    }

    @Test
    void crlfSettingsAreNotWhatTheyLookLikeToTheFirmware() throws IOException {
        write(uEnv(), "resin_root_part=3\r\nupgrade_available=1\r\n");
        // "1\r" is not "1", so nothing is counted, and "3\r" is no partition number
        assertEquals(2, SimFirmware.selectRoot(env()));
        assertFalse(Files.exists(bootcount()));
    }

    @Test
    void trailingBlanksStillWorkForTheFirmware() throws IOException {
        write(uEnv(), "resin_root_part=3 \nupgrade_available=1 \n");
        write(bootcount(), "bootcount=0 \n");
        assertEquals(3, SimFirmware.selectRoot(env()));
        assertEquals(1, env().read().bootcount());
    }

    // --- limit, raw variables ---

    @Test
    void bootLimitDefaultsToThreeAndRefusesGarbage() throws IOException {
        assertEquals(3, env().bootLimit());
        write(extra(), "extra_os_cmdline=quiet\n");
        assertEquals(3, env().bootLimit());
        write(extra(), "os_bc_lim=5 \n");
        assertEquals(5, env().bootLimit());
        write(extra(), "os_bc_lim=five\n");
        assertTrue(assertThrows(BootSettingsException.class, () -> env().bootLimit()).getMessage()
                .contains("not a whole number"));
        write(extra(), "os_bc_lim=4\nos_bc_lim=5\n");
        assertTrue(assertThrows(BootSettingsException.class, () -> env().bootLimit()).getMessage()
                .contains("2 times"));
    }

    @Test
    void rawVariablesShowWhatIsWritten() throws IOException {
        env().write(new BootSettings(3, true, 0));
        assertEquals(Map.of("resin_root_part", "3", "upgrade_available", "1", "bootcount", "0"),
                env().rawVariables());
        write(extra(), "os_bc_lim=7\n");
        SimFirmware.selectRoot(env());
        assertEquals(Map.of("resin_root_part", "3", "upgrade_available", "1", "bootcount", "1", "os_bc_lim", "7"),
                env().rawVariables());
        write(uEnv(), "resin_root_part=Z\nupgrade_available=1\n");
        assertEquals("Z", env().rawVariables().get("resin_root_part"), "status shows even what read() refuses");
    }

    // --- atomicity ---

    @Test
    void writeLeavesNoTempFiles() throws IOException {
        env().write(new BootSettings(3, true, 2));
        env().write(new BootSettings(2, false, 0));
        assertEquals(List.of("resinOS_uEnv.txt"), names(boot));
    }

    @Test
    void aTempFileLeftByACrashBeforeTheRenameIsIgnored() throws IOException {
        env().write(new BootSettings(2, false, 0));
        write(boot.resolve(".resinOS_uEnv.txt.5f3a9c.tmp"), "resin_root_part=3\nupgr");
        write(boot.resolve(".bootcount.env.77aa.tmp"), "bootcount=9\n");
        assertEquals(new BootSettings(2, false, 0), env().read());
        assertEquals(2, SimFirmware.selectRoot(env()));
        env().write(new BootSettings(3, true, 0));
        assertEquals(new BootSettings(3, true, 0), env().read());
    }

    @Test
    void theCountIsClearedBeforeARootIsNamed() throws IOException {
        // a crash between the two writes must not leave a stale count next to freshly written settings
        List<String> ops = new ArrayList<>();
        SettingsFiles recording = new SettingsFiles() {
            @Override
            public void write(Path target, byte[] content) throws IOException {
                ops.add("write " + target.getFileName());
                SettingsFiles.ATOMIC.write(target, content);
            }

            @Override
            public void delete(Path target) throws IOException {
                ops.add("delete " + target.getFileName());
                SettingsFiles.ATOMIC.delete(target);
            }
        };
        new UBootTextEnv(boot, recording).write(new BootSettings(3, true, 0));
        new UBootTextEnv(boot, recording).write(new BootSettings(3, true, 2));
        assertEquals(List.of("delete bootcount.env", "write resinOS_uEnv.txt", "write bootcount.env",
                "write resinOS_uEnv.txt"), ops);
    }

    // --- read-back ---

    @Test
    void aWriteThatDoesNotReadBackThrows() {
        SettingsFiles flipsTheFlag = new SettingsFiles() {
            @Override
            public void write(Path target, byte[] content) throws IOException {
                String s = new String(content, StandardCharsets.US_ASCII).replace("upgrade_available=1",
                        "upgrade_available=0");
                SettingsFiles.ATOMIC.write(target, s.getBytes(StandardCharsets.US_ASCII));
            }

            @Override
            public void delete(Path target) throws IOException {
                SettingsFiles.ATOMIC.delete(target);
            }
        };
        BootSettingsException e = assertThrows(BootSettingsException.class,
                () -> new UBootTextEnv(boot, flipsTheFlag).write(new BootSettings(3, true, 0)));
        assertTrue(e.getMessage().contains("read-back"), e.getMessage());
    }

    @Test
    void aWriteThatIsLostThrows() throws IOException {
        env().write(new BootSettings(2, false, 0));
        SettingsFiles loses = new SettingsFiles() {
            @Override
            public void write(Path target, byte[] content) {}

            @Override
            public void delete(Path target) {}
        };
        assertThrows(BootSettingsException.class,
                () -> new UBootTextEnv(boot, loses).write(new BootSettings(3, true, 0)));
    }

    @Test
    void aStaleCountThatCannotBeClearedThrows() throws IOException {
        write(uEnv(), "resin_root_part=2\nupgrade_available=1\n");
        write(bootcount(), "bootcount=3\n");
        SettingsFiles cannotDelete = new SettingsFiles() {
            @Override
            public void write(Path target, byte[] content) throws IOException {
                SettingsFiles.ATOMIC.write(target, content);
            }

            @Override
            public void delete(Path target) {}
        };
        BootSettingsException e = assertThrows(BootSettingsException.class,
                () -> new UBootTextEnv(boot, cannotDelete).write(new BootSettings(2, false, 0)));
        assertTrue(e.getMessage().contains("differs"), e.getMessage());
    }
}
