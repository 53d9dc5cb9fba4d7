package io.hupd.adapters.bootloader;

import static io.hupd.adapters.bootloader.TestFiles.text;
import static io.hupd.adapters.bootloader.TestFiles.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.ports.BootSettings;
import io.hupd.ports.Bootloader;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BootloadersTest {
    @TempDir
    Path boot;

    @Test
    void knownFlavours() {
        assertTrue(Bootloaders.flavours().containsAll(java.util.List.of("uboot", "grub")));
        for (String f : Bootloaders.flavours()) {
            assertEquals(f, Bootloaders.open(f, boot).flavour());
        }
        assertInstanceOf(UBootTextEnv.class, Bootloaders.open("uboot", boot));
        assertInstanceOf(GrubEnv.class, Bootloaders.open("grub", boot));
    }

    @Test
    void unknownFlavourIsUserInput() {
        UserInputException e = assertThrows(UserInputException.class, () -> Bootloaders.open("lilo", boot));
        assertTrue(e.getMessage().contains("'lilo'") && e.getMessage().contains("uboot"), e.getMessage());
        assertThrows(UserInputException.class, () -> Bootloaders.open(null, boot));
        assertThrows(UserInputException.class, () -> Bootloaders.open("UBOOT", boot));
    }

    @Test
    void createUBootWithoutLimitLeavesExtraUEnvAlone() throws IOException {
        write(boot.resolve("extra_uEnv.txt"), "extra_os_cmdline=quiet\r\n");
        Bootloader b = Bootloaders.create("uboot", boot, 2, OptionalInt.empty());
        assertEquals(new BootSettings(2, false, 0), b.read());
        assertEquals("resin_root_part=2\nupgrade_available=0\n", text(boot.resolve("resinOS_uEnv.txt")));
        assertFalse(Files.exists(boot.resolve("bootcount.env")));
        assertEquals("extra_os_cmdline=quiet\r\n", text(boot.resolve("extra_uEnv.txt")));
        assertEquals(3, b.bootLimit());
    }

    @Test
    void createUBootWithoutLimitOrExtraWritesNoExtra() throws IOException {
        Bootloaders.create("uboot", boot, 2, OptionalInt.empty());
        assertFalse(Files.exists(boot.resolve("extra_uEnv.txt")));
    }

    @Test
    void createUBootWithLimitWritesOsBcLimAndKeepsTheUsersLines() throws IOException {
        write(boot.resolve("extra_uEnv.txt"), "extra_os_cmdline=quiet\nos_bc_lim=9\n# mine\n");
        write(boot.resolve("bootcount.env"), "bootcount=7\n");
        Bootloader b = Bootloaders.create("uboot", boot, 3, OptionalInt.of(5));
        assertEquals("extra_os_cmdline=quiet\n# mine\nos_bc_lim=5\n", text(boot.resolve("extra_uEnv.txt")));
        assertEquals(5, b.bootLimit());
        assertEquals(new BootSettings(3, false, 0), b.read(), "a stale count is cleared");

        Path fresh = boot.resolve("other");
        Bootloader c = Bootloaders.create("uboot", fresh, 2, OptionalInt.of(1));
        assertEquals("os_bc_lim=1\n", text(fresh.resolve("extra_uEnv.txt")));
        assertEquals(1, c.bootLimit());
    }

    @Test
    void createGrubUsesGrubFolderUnlessTheBootFilesBroughtEfiBoot() throws IOException {
        Bootloader b = Bootloaders.create("grub", boot, 2, OptionalInt.empty());
        assertEquals(1024, Files.size(boot.resolve("grub/grubenv")));
        assertEquals(new BootSettings(2, false, 0), b.read());

        Path efi = boot.resolve("efi-device");
        Files.createDirectories(efi.resolve("EFI/BOOT"));
        Bootloader e = Bootloaders.create("grub", efi, 2, OptionalInt.empty());
        assertTrue(Files.exists(efi.resolve("EFI/BOOT/grubenv")));
        assertFalse(Files.exists(efi.resolve("grub/grubenv")));
        assertEquals(new BootSettings(2, false, 0), Bootloaders.open("grub", efi).read());
        assertEquals(new BootSettings(2, false, 0), e.read());
    }

    @Test
    void createGrubReplacesABrokenShippedBlockAndKeepsAValidOnesVariables() throws IOException {
        write(boot.resolve("grub/grubenv"), "not a block");
        Bootloaders.create("grub", boot, 2, OptionalInt.empty());
        assertEquals(1024, Files.size(boot.resolve("grub/grubenv")));

        java.util.Map<String, String> shipped = new java.util.LinkedHashMap<>();
        shipped.put("bootcount", "0");
        shipped.put("extra", "x");
        Files.write(boot.resolve("grub/grubenv"), GrubEnvBlock.serialize(shipped));
        Bootloaders.create("grub", boot, 3, OptionalInt.empty());
        assertEquals("x", GrubEnvBlock.parse(Files.readAllBytes(boot.resolve("grub/grubenv"))).get("extra"));
    }

    @Test
    void badCreateArgumentsAreUserInput() {
        assertThrows(UserInputException.class, () -> Bootloaders.create("grub", boot, 2, OptionalInt.of(3)));
        assertThrows(UserInputException.class, () -> Bootloaders.create("uboot", boot, 0, OptionalInt.empty()));
        assertThrows(UserInputException.class, () -> Bootloaders.create("uboot", boot, 256, OptionalInt.empty()));
        assertThrows(UserInputException.class, () -> Bootloaders.create("uboot", boot, 2, OptionalInt.of(-1)));
        assertThrows(UserInputException.class, () -> Bootloaders.create("nope", boot, 2, OptionalInt.empty()));
        assertFalse(Files.exists(boot.resolve("resinOS_uEnv.txt")));
        assertFalse(Files.exists(boot.resolve("grub")));
    }
}
