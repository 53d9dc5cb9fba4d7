package io.hupd.adapters.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hupd.adapters.sim.Ext4Image.Entry;
import io.hupd.adapters.sim.Ext4Image.Type;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Ext4ImageTest {
    private static final long MIB = 1024 * 1024;
    private static final String SLOW_TARGET = "/opt/" + "t".repeat(120) + "/target";

    @TempDir
    static Path shared;

    static Ext4Image img;
    static byte[] binary;

    /** One populated image shared by the read-only tests keeps the suite to a handful of mkfs runs. */
    @BeforeAll
    static void makeImage() throws IOException {
        Path src = shared.resolve("tree");
        Files.createDirectories(src.resolve("etc"));
        Files.createDirectories(src.resolve("usr/bin"));
        Files.createDirectories(src.resolve("a dir"));
        Files.writeString(src.resolve("etc/os-release"), "VERSION_ID=2.115.3\n");
        Files.createFile(src.resolve("empty"));
        Files.writeString(src.resolve("a dir/file with spaces"), "spaced\n");
        Files.writeString(src.resolve("it's;odd\\name"), "odd\n");
        binary = new byte[70_000];
        new Random(7).nextBytes(binary);
        Files.write(src.resolve("usr/bin/blob"), binary);
        Files.createSymbolicLink(src.resolve("usr/bin/fast"), Path.of("/dev/null"));
        Files.createSymbolicLink(src.resolve("usr/bin/slow"), Path.of(SLOW_TARGET));
        img = new Ext4Image(shared.resolve("rootA.img"));
        img.format(src, "resin-rootA", 16 * MIB);
    }

    @Test
    void formattedImageIsCleanAndExactlyTheSlotSize() throws IOException {
        assertTrue(img.isCleanExt4());
        assertEquals(16 * MIB, Files.size(img.file()));
        assertEquals("resin-rootA", img.label());
    }

    @Test
    void readsFilesByteForByte() throws IOException {
        assertEquals("VERSION_ID=2.115.3\n", text(img.readFile("/etc/os-release", 4096)));
        assertEquals("spaced\n", text(img.readFile("/a dir/file with spaces", 4096)));
        assertEquals("odd\n", text(img.readFile("/it's;odd\\name", 4096)));
        assertArrayEquals(binary, img.readFile("/usr/bin/blob", MIB).orElseThrow());
        assertEquals(0, img.readFile("/empty", 10).orElseThrow().length);
        assertEquals("VERSION_ID=2.115.3\n", text(img.readFile("etc/os-release", 4096)), "relative = from root");
        assertEquals("VERSION_ID=2.115.3\n", text(img.readFile("//etc//os-release", 4096)));
    }

    @Test
    void statTellsTypesAndDoesNotFollowTheLastLink() throws IOException {
        assertEquals(new Entry(Type.FILE, binary.length, null), img.stat("/usr/bin/blob").orElseThrow());
        assertEquals(new Entry(Type.FILE, 0, null), img.stat("/empty").orElseThrow());
        assertEquals(Type.DIRECTORY, img.stat("/a dir").orElseThrow().type());
        assertEquals(Type.DIRECTORY, img.stat("/").orElseThrow().type());
        assertEquals(new Entry(Type.SYMLINK, 9, "/dev/null"), img.stat("/usr/bin/fast").orElseThrow());
        assertEquals(new Entry(Type.SYMLINK, SLOW_TARGET.length(), SLOW_TARGET),
                img.stat("/usr/bin/slow").orElseThrow());
    }

    @Test
    void missingOrNonRegularPathsAreEmpty() throws IOException {
        assertEquals(Optional.empty(), img.stat("/nope"));
        assertEquals(Optional.empty(), img.stat("/etc/os-release/below-a-file"));
        assertEquals(Optional.empty(), img.readFile("/nope", 10));
        assertEquals(Optional.empty(), img.readFile("/etc", 1_000_000));
        assertEquals(Optional.empty(), img.readFile("/usr/bin/fast", 10));
    }

    @Test
    void refusesFilesLargerThanTheCap() {
        IOException e = assertThrows(IOException.class, () -> img.readFile("/usr/bin/blob", 1000));
        assertEquals("/usr/bin/blob in rootA.img is 70000 bytes, more than the 1000 allowed", e.getMessage());
    }

    @Test
    void refusesPathsThatCouldBreakTheDebugfsRequest() {
        assertThrows(IllegalArgumentException.class, () -> img.stat("/etc\"; write /x /y"));
        assertThrows(IllegalArgumentException.class, () -> img.readFile("/etc\nrm /etc/os-release", 10));
    }

    @Test
    void treeTooLargeForTheSlotIsOneLineAndLeavesNoFilesystem(@TempDir Path dir) throws IOException {
        Path src = dir.resolve("big");
        Files.createDirectories(src);
        byte[] mib = new byte[(int) MIB];
        new Random(1).nextBytes(mib);
        for (int i = 0; i < 10; i++) {
            Files.write(src.resolve("f" + i), mib);
        }
        Ext4Image slot = new Ext4Image(dir.resolve("rootB.img"));
        slot.formatEmpty("resin-rootB", 8 * MIB);
        assertTrue(slot.isCleanExt4());

        IOException e = assertThrows(IOException.class, () -> slot.format(src, "resin-rootB", 8 * MIB));
        assertEquals("root filesystem does not fit in rootB.img (8 MiB)", e.getMessage());
        assertFalse(slot.isCleanExt4(), "a failed format must not leave something that looks bootable");
        assertEquals(8 * MIB, Files.size(slot.file()));
    }

    @Test
    void reformattingAnExistingLargerSlotFileGivesExactlyTheNewSize(@TempDir Path dir) throws IOException {
        Ext4Image slot = new Ext4Image(dir.resolve("rootB.img"));
        slot.formatEmpty("old", 12 * MIB);
        slot.formatEmpty("resin-rootB", 8 * MIB);
        assertEquals(8 * MIB, Files.size(slot.file()));
        assertTrue(slot.isCleanExt4());
        assertEquals("resin-rootB", slot.label());
        assertEquals(Type.DIRECTORY, slot.stat("/lost+found").orElseThrow().type());
        assertEquals(Optional.empty(), slot.readFile("/etc/os-release", 100));
    }

    @Test
    void garbageOrMissingImageIsNotCleanExt4(@TempDir Path dir) throws IOException {
        Path garbage = dir.resolve("garbage.img");
        Files.write(garbage, "not a filesystem ".repeat(100_000).getBytes(StandardCharsets.US_ASCII));
        assertFalse(new Ext4Image(garbage).isCleanExt4());
        assertFalse(new Ext4Image(dir.resolve("missing.img")).isCleanExt4());
        Files.write(dir.resolve("empty.img"), new byte[0]);
        assertFalse(new Ext4Image(dir.resolve("empty.img")).isCleanExt4());
    }

    @Test
    void readingGarbageIsAnErrorNotAMissingFile(@TempDir Path dir) throws IOException {
        Path garbage = dir.resolve("rootB.img");
        Files.write(garbage, new byte[1_000_000]);
        IOException e = assertThrows(IOException.class, () -> new Ext4Image(garbage).stat("/etc/os-release"));
        assertTrue(e.getMessage().startsWith("cannot read /etc/os-release from rootB.img: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertThrows(IOException.class, () -> new Ext4Image(garbage).label());
    }

    @Test
    void missingSourceTreeIsAClearError(@TempDir Path dir) {
        IOException e = assertThrows(IOException.class,
                () -> new Ext4Image(dir.resolve("rootB.img")).format(dir.resolve("nope"), "x", 8 * MIB));
        assertTrue(e.getMessage().startsWith("cannot format rootB.img: source tree "), e.getMessage());
    }

    @Test
    void badLabelOrSizeIsAProgrammingError(@TempDir Path dir) {
        Ext4Image slot = new Ext4Image(dir.resolve("rootB.img"));
        assertThrows(IllegalArgumentException.class, () -> slot.formatEmpty("a-label-longer-than-16", 8 * MIB));
        assertThrows(IllegalArgumentException.class, () -> slot.formatEmpty("ok", 8 * MIB + 1));
        assertFalse(Files.exists(slot.file()), "nothing is touched before the arguments are checked");
    }

    @Test
    void label() throws IOException {
        assertEquals("resin-rootA", img.label());
    }

    private static String text(Optional<byte[]> b) {
        return new String(b.orElseThrow(), StandardCharsets.UTF_8);
    }
}
