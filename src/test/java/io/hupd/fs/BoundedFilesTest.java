package io.hupd.fs;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 18 finding 5: a capped read takes a file of exactly its cap and refuses one byte more, by name. */
class BoundedFilesTest {
    @TempDir
    Path tmp;

    private Path fileOf(int bytes) throws Exception {
        byte[] content = new byte[bytes];
        Arrays.fill(content, (byte) 'x');
        return Files.write(tmp.resolve("f" + bytes), content);
    }

    @Test
    void aFileOfExactlyTheCapIsReadWhole() throws Exception {
        assertEquals(BoundedFiles.SETTINGS, BoundedFiles.read(fileOf(BoundedFiles.SETTINGS), BoundedFiles.SETTINGS)
                .length);
        assertEquals(BoundedFiles.SMALL, BoundedFiles.readString(fileOf(BoundedFiles.SMALL), BoundedFiles.SMALL)
                .length());
        assertEquals(0, BoundedFiles.read(fileOf(0), BoundedFiles.SMALL).length);
    }

    @Test
    void oneByteOverTheCapIsRefusedNamingTheFileAndItsSize() throws Exception {
        Path over = fileOf(BoundedFiles.SETTINGS + 1);
        BoundedFiles.TooLarge e = assertThrows(BoundedFiles.TooLarge.class,
                () -> BoundedFiles.read(over, BoundedFiles.SETTINGS));
        assertEquals(over + " is " + (BoundedFiles.SETTINGS + 1) + " bytes, more than the " + BoundedFiles.SETTINGS
                + " bytes hupd reads from it: it is not what hupd wrote there", e.getMessage());
        assertThrows(BoundedFiles.TooLarge.class, () -> BoundedFiles.readString(fileOf(BoundedFiles.SMALL + 1),
                BoundedFiles.SMALL));
    }

    @Test
    void anEndlessFileIsCutAtTheCapAndNotCalledSmall() {
        // /dev/zero reports a size of 0 and never ends: the read must stop after cap + 1 bytes
        BoundedFiles.TooLarge e = assertThrows(BoundedFiles.TooLarge.class,
                () -> BoundedFiles.read(Path.of("/dev/zero"), 4096));
        assertEquals("/dev/zero holds more than the 4096 bytes hupd reads from it: it is not what hupd wrote there",
                e.getMessage());
    }

    @Test
    void textIsUtf8() throws Exception {
        Path f = Files.writeString(tmp.resolve("v"), "VERSION_ID=2.119.é\n", StandardCharsets.UTF_8);
        assertEquals("VERSION_ID=2.119.é\n", BoundedFiles.readString(f, BoundedFiles.SMALL));
    }
}
