package io.hupd.adapters.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hupd.adapters.sim.Ext4Image.Entry;
import io.hupd.adapters.sim.Ext4Image.Type;
import io.hupd.fs.Commands;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
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

    /** What mke2fs makes mounts: with metadata_csum (1 KiB and 4 KiB blocks, 64-bit) and with the older gdt_csum. */
    @Test
    void filesystemsMkfsMakesAreMountable(@TempDir Path dir) throws IOException {
        assertNull(img.whyNotMountable());
        Ext4Image large = new Ext4Image(dir.resolve("rootB.img"));
        large.formatEmpty("resin-rootB", 72 * MIB);
        assertNull(large.whyNotMountable());
        for (String features : new String[] {"64bit", "^metadata_csum,uninit_bg", "^metadata_csum,^uninit_bg"}) {
            Path f = dir.resolve("other.img");
            Files.deleteIfExists(f);
            Commands.check(List.of("mkfs.ext4", "-q", "-F", "-O", features, f.toString(), "20M"),
                    Duration.ofSeconds(60));
            assertNull(new Ext4Image(f).whyNotMountable(), features);
        }
    }

    /** Each kind of damage a kernel refuses at mount; e2fsck agrees that none of these is clean. */
    @Test
    void damagedSuperblocksAndDescriptorsAreNotMountable(@TempDir Path dir) throws IOException {
        assertDamage(dir, "64bit", 1024 + 0x38, "no ext4 superblock");
        assertDamage(dir, "64bit", 1024 + 0x78, "superblock checksum mismatch");
        assertDamage(dir, "64bit", 2048 + 4, "group 0: descriptor checksum mismatch");
        assertDamage(dir, "64bit", 2048 + 64 + 8, "group 1: descriptor checksum mismatch");
        assertDamage(dir, "^metadata_csum,uninit_bg", 2048 + 4, "group 0: descriptor checksum mismatch");
        // without any checksum, a descriptor pointing outside the filesystem (a kernel refuses it; e2fsck -n reads
        // the backup descriptors instead and passes it)
        Path f = mkfs(dir, "^metadata_csum,^uninit_bg");
        overwrite(f, 2048 + 8, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f});
        assertEquals("group 0: bitmaps or inode table outside the filesystem", new Ext4Image(f).whyNotMountable());
        // cut short: the filesystem is larger than its partition (a kernel refuses it; e2fsck, given a file it
        // could grow, passes it)
        f = mkfs(dir, "64bit");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(10 * MIB);
        }
        assertEquals("block count exceeds the size of the file", new Ext4Image(f).whyNotMountable());
    }

    @Test
    void garbageOrMissingImageIsNotMountable(@TempDir Path dir) throws IOException {
        Path garbage = dir.resolve("garbage.img");
        Files.write(garbage, "not a filesystem ".repeat(100_000).getBytes(StandardCharsets.US_ASCII));
        assertEquals("no ext4 superblock", new Ext4Image(garbage).whyNotMountable());
        assertEquals("no such file", new Ext4Image(dir.resolve("missing.img")).whyNotMountable());
        Files.write(dir.resolve("empty.img"), new byte[0]);
        assertEquals("too small for an ext4 superblock", new Ext4Image(dir.resolve("empty.img")).whyNotMountable());
        Files.write(dir.resolve("zero.img"), new byte[1_000_000]);
        assertEquals("no ext4 superblock", new Ext4Image(dir.resolve("zero.img")).whyNotMountable());
    }

    private static Path mkfs(Path dir, String features) throws IOException {
        Path f = dir.resolve("damaged.img");
        Files.deleteIfExists(f);
        Commands.check(List.of("mkfs.ext4", "-q", "-F", "-b", "1024", "-O", features, f.toString(), "20M"),
                Duration.ofSeconds(60));
        assertNull(new Ext4Image(f).whyNotMountable(), features);
        return f;
    }

    private static void assertDamage(Path dir, String features, long at, String why) throws IOException {
        Path f = mkfs(dir, features);
        byte[] one = new byte[1];
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ch.read(ByteBuffer.wrap(one), at);
        }
        overwrite(f, at, new byte[] {(byte) (one[0] ^ 0x10)});
        assertEquals(why, new Ext4Image(f).whyNotMountable(), features + " at " + at);
        assertFalse(new Ext4Image(f).isCleanExt4(), features + " at " + at);
    }

    private static void overwrite(Path f, long at, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), at);
        }
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
