package io.hupd.adapters.bootloader;

import static io.hupd.adapters.bootloader.TestFiles.requireTool;
import static io.hupd.adapters.bootloader.TestFiles.run;
import static io.hupd.adapters.bootloader.TestFiles.snapshot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.adapters.sim.SimFirmware;
import io.hupd.fs.Commands;
import io.hupd.ports.BootSettings;
import io.hupd.ports.BootSettingsException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UBootBinaryEnvTest {
    private static final int SIZE = UBootBinaryEnv.COPY_SIZE;

    @TempDir
    Path boot;

    private UBootBinaryEnv env() {
        return new UBootBinaryEnv(boot);
    }

    private Path envFile() {
        return boot.resolve("uboot.env");
    }

    private UBootBinaryEnv created(int root, OptionalInt limit) throws IOException {
        return (UBootBinaryEnv) Bootloaders.create("uboot-env", boot, root, limit);
    }

    /** fw_printenv from the boot folder, as the CLI contract promises it works. */
    private Map<String, String> fwPrintenv() throws IOException {
        Commands.Result r = run(boot, "fw_printenv", "-c", "fw_env.config");
        assertEquals(0, r.exitCode(), r.stderr());
        return toMap(r.out());
    }

    private Commands.Result fwSetenv(String... nameValue) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("fw_setenv", "-c", "fw_env.config"));
        cmd.addAll(List.of(nameValue));
        return run(boot, cmd.toArray(String[]::new));
    }

    private static Map<String, String> toMap(String listing) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : listing.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                out.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return out;
    }

    private int flags(int copy) throws IOException {
        return Files.readAllBytes(envFile())[copy * SIZE + 4] & 0xff;
    }

    private void corrupt(int copy) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(envFile().toFile(), "rw")) {
            f.seek(copy * SIZE + 10L);
            int b = f.read();
            f.seek(copy * SIZE + 10L);
            f.write(b ^ 0x55);
        }
    }

    /** One copy with the given counter, laid out by hand (not by the class under test). */
    private static byte[] copy(int flags, String... entries) {
        byte[] c = new byte[SIZE];
        int p = 5;
        for (String e : entries) {
            byte[] b = e.getBytes(StandardCharsets.ISO_8859_1);
            System.arraycopy(b, 0, c, p, b.length);
            p += b.length + 1;
        }
        c[4] = (byte) flags;
        CRC32 crc = new CRC32();
        crc.update(c, 5, SIZE - 5);
        ByteBuffer.wrap(c, 0, 4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue());
        return c;
    }

    private void layout(byte[] first, byte[] second) throws IOException {
        byte[] both = new byte[2 * SIZE];
        System.arraycopy(first, 0, both, 0, SIZE);
        System.arraycopy(second, 0, both, SIZE, SIZE);
        Files.write(envFile(), both);
        Files.writeString(boot.resolve("fw_env.config"), UBootBinaryEnv.DEFAULT_CONFIG);
    }

    // --- round trips with libubootenv ---

    @Test
    void fwPrintenvReadsWhatWeCreateAndEveryWriteAfter() throws IOException {
        requireTool("fw_printenv");
        created(2, OptionalInt.of(4));
        assertEquals("uboot.env 0x0 0x4000\nuboot.env 0x4000 0x4000\n", Files.readString(boot.resolve("fw_env.config")));
        assertEquals(2 * SIZE, Files.size(envFile()));
        assertEquals(Map.of("resin_root_part", "2", "upgrade_available", "0", "bootcount", "0", "os_bc_lim", "4"),
                fwPrintenv());
        env().write(new BootSettings(3, true, 0));
        assertEquals(Map.of("resin_root_part", "3", "upgrade_available", "1", "bootcount", "0", "os_bc_lim", "4"),
                fwPrintenv());
        env().write(new BootSettings(3, true, 11));
        assertEquals("b", fwPrintenv().get("bootcount"));
        assertEquals(List.of(3, 2), List.of(flags(0), flags(1)), "writes alternate, counter climbs");
    }

    @Test
    void fwPrintenvReadsOurSingleCopyLayoutToo() throws IOException {
        requireTool("fw_printenv");
        Files.write(envFile(), Arrays4.single("resin_root_part=2", "upgrade_available=0", "bootcount=0"));
        Files.writeString(boot.resolve("fw_env.config"), "uboot.env 0x0 0x4000\n");
        env().write(new BootSettings(3, true, 0));
        assertEquals(Map.of("resin_root_part", "3", "upgrade_available", "1", "bootcount", "0"), fwPrintenv());
        assertEquals(new BootSettings(3, true, 0), env().read());
    }

    @Test
    void envsWrittenByFwSetenvAreReadAndKeptIncludingOtherVariables() throws IOException {
        requireTool("fw_setenv");
        Files.write(envFile(), new byte[2 * SIZE]);
        Files.writeString(boot.resolve("fw_env.config"), UBootBinaryEnv.DEFAULT_CONFIG);
        Files.writeString(boot.resolve("defaults.txt"), "bootcmd=run distro_bootcmd\n");
        Commands.Result r = run(boot, "fw_setenv", "-c", "fw_env.config", "-f", "defaults.txt", "resin_root_part",
                "2");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals(0, fwSetenv("upgrade_available", "0").exitCode());
        assertEquals(0, fwSetenv("bootcount", "0").exitCode());
        assertEquals(0, fwSetenv("note", "has spaces = and more").exitCode());
        assertEquals(new BootSettings(2, false, 0), env().read());

        env().write(new BootSettings(3, true, 0));
        Map<String, String> listed = fwPrintenv();
        assertEquals("run distro_bootcmd", listed.get("bootcmd"));
        assertEquals("has spaces = and more", listed.get("note"));
        assertEquals("3", listed.get("resin_root_part"));

        assertEquals(0, fwSetenv("bootcount", "2").exitCode(), "fw_setenv goes on after our write");
        assertEquals(new BootSettings(3, true, 2), env().read());
    }

    @Test
    void aCorruptNewestCopyIsSkippedAsUBootAndFwPrintenvDo() throws IOException {
        requireTool("fw_printenv");
        created(2, OptionalInt.empty());
        env().write(new BootSettings(3, true, 0));
        env().write(new BootSettings(3, true, 1));
        int newest = flags(0) > flags(1) ? 0 : 1;
        corrupt(newest);
        assertEquals(new BootSettings(3, true, 0), env().read(), "the older copy");
        assertEquals("0", fwPrintenv().get("bootcount"));
        env().write(new BootSettings(2, false, 0));
        assertEquals("2", fwPrintenv().get("resin_root_part"));
        assertEquals(new BootSettings(2, false, 0), env().read());
    }

    @Test
    void counterWrapsFrom255To0AsLibubootenvReadsIt() throws IOException {
        requireTool("fw_printenv");
        layout(copy(255, "resin_root_part=2", "upgrade_available=0", "bootcount=0"),
                copy(0, "resin_root_part=3", "upgrade_available=1", "bootcount=0"));
        assertEquals("3", fwPrintenv().get("resin_root_part"));
        assertEquals(new BootSettings(3, true, 0), env().read());
        env().write(new BootSettings(3, false, 0));
        assertEquals(1, flags(0), "0 + 1 written over the 255 copy");
        assertEquals("0", fwPrintenv().get("upgrade_available"));

        layout(copy(7, "resin_root_part=2", "upgrade_available=0", "bootcount=0"),
                copy(7, "resin_root_part=3", "upgrade_available=0", "bootcount=0"));
        assertEquals("2", fwPrintenv().get("resin_root_part"), "a tie goes to the first copy");
        assertEquals(2, env().read().rootPart());
    }

    // --- bad input ---

    @Test
    void badEnvironmentsAreRefusedAndLeftAlone() throws IOException {
        Map<String, byte[][]> cases = new LinkedHashMap<>();
        byte[] good = copy(1, "resin_root_part=3", "upgrade_available=1", "bootcount=0");
        byte[] bad = good.clone();
        bad[9] ^= 1;
        cases.put("neither copy has a valid CRC", new byte[][] {bad, bad});
        cases.put("no upgrade_available", new byte[][] {copy(1, "resin_root_part=3", "bootcount=0"), bad});
        cases.put("lower-case hex", new byte[][] {copy(1, "resin_root_part=0x3", "upgrade_available=1",
                "bootcount=0"), bad});
        cases.put("is not 0 or 1", new byte[][] {copy(1, "resin_root_part=3", "upgrade_available=2",
                "bootcount=0"), bad});
        cases.put("duplicate variable bootcount", new byte[][] {copy(1, "resin_root_part=3", "upgrade_available=1",
                "bootcount=0", "bootcount=1"), bad});
        cases.put("malformed entry", new byte[][] {copy(1, "resin_root_part=3", "garbage"), bad});
        List<String> structural = List.of("neither copy has a valid CRC", "duplicate variable bootcount",
                "malformed entry");
        for (Map.Entry<String, byte[][]> c : cases.entrySet()) {
            layout(c.getValue()[0], c.getValue()[1]);
            Map<String, String> before = snapshot(boot);
            BootSettingsException e = assertThrows(BootSettingsException.class, () -> env().read(), c.getKey());
            assertTrue(e.getMessage().contains(c.getKey()), c.getKey() + " -> " + e.getMessage());
            assertTrue(e.getMessage().startsWith(envFile().toString()), e.getMessage());
            assertEquals(before, snapshot(boot), c.getKey());
            if (structural.contains(c.getKey())) {
                // values hupd is about to replace may be bad; a layout it cannot read back must not be overwritten
                assertThrows(BootSettingsException.class, () -> env().write(new BootSettings(2, false, 0)));
                assertEquals(before, snapshot(boot), c.getKey());
            }
        }
    }

    @Test
    void badConfigurationsAreRefused() throws IOException {
        assertTrue(assertThrows(BootSettingsException.class, () -> env().read()).getMessage()
                .endsWith("fw_env.config: missing"));
        created(2, OptionalInt.empty());
        Files.writeString(boot.resolve("fw_env.config"), "uboot.env 0x0 0x4000\nuboot.env 0x4000 0x2000\n");
        assertTrue(assertThrows(BootSettingsException.class, () -> env().read()).getMessage().contains("size"));
        Files.writeString(boot.resolve("fw_env.config"), "uboot.env 0x0 0x4000\nuboot.env 0x8000 0x4000\n");
        assertTrue(assertThrows(BootSettingsException.class, () -> env().read()).getMessage().contains("ends"));
        Files.writeString(boot.resolve("fw_env.config"), "# comment\nuboot.env\t0\t16384\n\nuboot.env 16384 0x4000\n");
        assertEquals(new BootSettings(2, false, 0), env().read(), "tabs, comments and decimal numbers");
    }

    // --- firmware rules ---

    @Test
    void limitThreeNewRootForThreePowerOnsThenTheOldOne() throws IOException {
        created(2, OptionalInt.empty());
        env().write(new BootSettings(3, true, 0));
        for (int boot = 1; boot <= 3; boot++) {
            assertEquals(3, SimFirmware.selectRoot(env()), "power-on " + boot);
            assertEquals(boot, env().read().bootcount());
        }
        assertEquals(2, SimFirmware.selectRoot(env()));
        assertEquals(new BootSettings(3, true, 4), env().read(), "root unchanged: the flip is in memory");
    }

    @Test
    void limitFromTheEnvironmentAndNoCountingWithoutATrial() throws IOException {
        created(3, OptionalInt.of(1));
        assertEquals(1, env().bootLimit());
        byte[] before = Files.readAllBytes(envFile());
        for (int i = 0; i < 3; i++) {
            assertEquals(3, SimFirmware.selectRoot(env()));
        }
        assertArrayEquals(before, Files.readAllBytes(envFile()));
        env().write(new BootSettings(2, true, 0));
        assertEquals(2, SimFirmware.selectRoot(env()));
        assertEquals(3, SimFirmware.selectRoot(env()));
    }

    @Test
    void theFirmwareSavesIntoTheOtherCopySoACorruptSaveFallsBackToTheLastGoodCount() throws IOException {
        created(2, OptionalInt.empty());
        env().write(new BootSettings(3, true, 0));
        SimFirmware.selectRoot(env());
        int newest = flags(0) > flags(1) ? 0 : 1;
        corrupt(newest);
        assertEquals(new BootSettings(3, true, 0), env().read());
    }

    @Test
    void noValidCopyBootsTheDefaultRoot() throws IOException {
        assertEquals(2, SimFirmware.selectRoot(env()), "nothing there at all");
        created(3, OptionalInt.empty());
        corrupt(0);
        corrupt(1);
        assertEquals(2, SimFirmware.selectRoot(env()));
    }

    // --- atomicity and read-back ---

    @Test
    void aTornWriteLeavesThePreviousSettings() throws IOException {
        created(2, OptionalInt.empty());
        UBootBinaryEnv torn = new UBootBinaryEnv(boot, (file, offset, copy) ->
                UBootEnvCopies.IN_PLACE.write(file, offset, java.util.Arrays.copyOf(copy, copy.length / 2)));
        // half of the new copy over a copy whose tail differs from it: the CRC no longer matches
        Files.write(envFile(), concat(copy(1, "resin_root_part=2", "upgrade_available=0", "bootcount=0"),
                copy(1, "x=".concat("y".repeat(SIZE - 20)))));
        assertThrows(BootSettingsException.class, () -> torn.write(new BootSettings(3, true, 0)));
        assertEquals(new BootSettings(2, false, 0), env().read());
        assertEquals(2, SimFirmware.selectRoot(env()));
    }

    @Test
    void aLostWriteIsNoticed() throws IOException {
        created(2, OptionalInt.empty());
        UBootBinaryEnv lost = new UBootBinaryEnv(boot, (file, offset, copy) -> {});
        BootSettingsException e = assertThrows(BootSettingsException.class,
                () -> lost.write(new BootSettings(3, true, 0)));
        assertTrue(e.getMessage().contains("not current"), e.getMessage());
        assertEquals(List.of("fw_env.config", "uboot.env"), TestFiles.names(boot));
    }

    @Test
    void rawVariablesShowTheCurrentCopy() throws IOException {
        created(2, OptionalInt.of(5));
        env().write(new BootSettings(3, true, 0));
        assertEquals(Map.of("resin_root_part", "3", "upgrade_available", "1", "bootcount", "0", "os_bc_lim", "5"),
                env().rawVariables());
        assertFalse(env().rawVariables().containsKey("bootcmd"));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The single-copy layout: CRC over everything after it, no flags byte. */
    private static final class Arrays4 {
        static byte[] single(String... entries) {
            byte[] c = new byte[SIZE];
            int p = 4;
            for (String e : entries) {
                byte[] b = e.getBytes(StandardCharsets.ISO_8859_1);
                System.arraycopy(b, 0, c, p, b.length);
                p += b.length + 1;
            }
            CRC32 crc = new CRC32();
            crc.update(c, 4, SIZE - 4);
            ByteBuffer.wrap(c, 0, 4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue());
            return c;
        }
    }
}
