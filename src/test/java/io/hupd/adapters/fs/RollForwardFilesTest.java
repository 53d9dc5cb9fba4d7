package io.hupd.adapters.fs;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.ports.BootFilePolicy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A crash at each point of a boot-partition write, left on disk as the crash would leave it (the test writes the
 * leftovers itself), then the next use of the partition: the write is completed when it was decided and dropped
 * when it was not.
 */
class RollForwardFilesTest {
    @TempDir
    Path tmp;

    private static final byte[] OLD = "old kernel\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] NEW = ("new kernel\n" + "k".repeat(5000)).getBytes(StandardCharsets.UTF_8);

    private Path boot() throws Exception {
        Path boot = Files.createDirectories(tmp.resolve("boot"));
        Files.write(boot.resolve("Image"), OLD);
        Files.createDirectories(boot.resolve("overlays"));
        Files.write(boot.resolve("overlays/fin.dtbo"), OLD);
        return boot;
    }

    private static List<String> names(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    @Test
    void aWriteLeavesOnlyTheNewFile() throws Exception {
        Path boot = boot();
        RollForwardFiles.write(boot.resolve("Image"), NEW);
        RollForwardFiles.write(boot.resolve("overlays/new.dtbo"), NEW);
        assertArrayEquals(NEW, Files.readAllBytes(boot.resolve("Image")));
        assertArrayEquals(NEW, Files.readAllBytes(boot.resolve("overlays/new.dtbo")));
        assertEquals(List.of("Image", "overlays/fin.dtbo", "overlays/new.dtbo"), names(boot));
    }

    @Test
    void theSiblingIsNamedByTheChecksumOfItsContent() {
        Path s = RollForwardFiles.siblingOf(Path.of("/b/Image"), NEW);
        assertTrue(s.getFileName().toString().matches("\\.Image\\.[0-9a-f]{16}\\.hupdrw"), s.toString());
        assertNotEquals(s, RollForwardFiles.siblingOf(Path.of("/b/Image"), OLD));
        assertTrue(RollForwardFiles.isWorkFile(s.getFileName().toString()));
        assertFalse(RollForwardFiles.isWorkFile("Image"));
        assertFalse(RollForwardFiles.isWorkFile(".hidden.tmp"), "only hupd's own temp names are work files");
    }

    @Test
    void crashAfterTheSiblingIsWrittenIsRolledForward() throws Exception {
        Path boot = boot();
        Files.write(RollForwardFiles.siblingOf(boot.resolve("Image"), NEW), NEW);
        Files.write(RollForwardFiles.siblingOf(boot.resolve("overlays/fin.dtbo"), NEW), NEW);

        RollForwardFiles.Recovery r = RollForwardFiles.recover(boot);

        assertEquals(List.of("Image", "overlays/fin.dtbo"), r.rolledForward());
        assertEquals(List.of(), r.removed());
        assertArrayEquals(NEW, Files.readAllBytes(boot.resolve("Image")));
        assertArrayEquals(NEW, Files.readAllBytes(boot.resolve("overlays/fin.dtbo")));
        assertEquals(List.of("Image", "overlays/fin.dtbo"), names(boot));
    }

    @Test
    void crashAfterTheRenameOnlyLosesTheSibling() throws Exception {
        Path boot = boot();
        Files.write(boot.resolve("Image"), NEW);
        Files.write(RollForwardFiles.siblingOf(boot.resolve("Image"), NEW), NEW);
        RollForwardFiles.Recovery r = RollForwardFiles.recover(boot);
        assertEquals(List.of(), r.rolledForward(), "the target already held the content");
        assertArrayEquals(NEW, Files.readAllBytes(boot.resolve("Image")));
        assertEquals(List.of("Image", "overlays/fin.dtbo"), names(boot));
    }

    @Test
    void aNewFileWhoseWriteWasInterruptedIsCreated() throws Exception {
        Path boot = boot();
        Files.write(RollForwardFiles.siblingOf(boot.resolve("overlays/added.dtbo"), NEW), NEW);
        RollForwardFiles.recover(boot);
        assertArrayEquals(NEW, Files.readAllBytes(boot.resolve("overlays/added.dtbo")));
    }

    @Test
    void aTornSiblingIsRemovedAndTheTargetKept() throws Exception {
        Path boot = boot();
        // The power went while the sibling was being written: its name has the whole content's checksum, its
        // bytes are only a prefix.
        Path torn = RollForwardFiles.siblingOf(boot.resolve("Image"), NEW);
        Files.write(torn, Arrays.copyOf(NEW, 4096));
        // And an empty one, as FAT leaves a file whose clusters were never allocated.
        Path empty = RollForwardFiles.siblingOf(boot.resolve("overlays/fin.dtbo"), NEW);
        Files.write(empty, new byte[0]);

        RollForwardFiles.Recovery r = RollForwardFiles.recover(boot);

        assertEquals(List.of(), r.rolledForward());
        assertEquals(List.of(boot.relativize(torn).toString(), boot.relativize(empty).toString()).stream().sorted()
                .toList(), r.removed().stream().sorted().toList());
        assertArrayEquals(OLD, Files.readAllBytes(boot.resolve("Image")));
        assertArrayEquals(OLD, Files.readAllBytes(boot.resolve("overlays/fin.dtbo")));
        assertEquals(List.of("Image", "overlays/fin.dtbo"), names(boot));
    }

    @Test
    void leftoverTempFilesOfTheReplaceAreRemoved() throws Exception {
        Path boot = boot();
        Files.write(boot.resolve(".Image.3f9a0c11d2e4b5a6.tmp"), Arrays.copyOf(NEW, 100));
        Files.write(boot.resolve("overlays/.fin.dtbo.7.tmp"), NEW);
        Files.write(boot.resolve(".user-notes.tmp"), OLD);
        RollForwardFiles.Recovery r = RollForwardFiles.recover(boot);
        assertEquals(2, r.removed().size(), r.toString());
        assertEquals(List.of(".user-notes.tmp", "Image", "overlays/fin.dtbo"), names(boot),
                "a file that only looks temporary is the user's and stays");
        assertArrayEquals(OLD, Files.readAllBytes(boot.resolve("Image")));
    }

    @Test
    void siblingsThatCannotNameAFileAreRemovedWithoutHarm() throws Exception {
        Path boot = boot();
        byte[] content = "x".getBytes(StandardCharsets.UTF_8);
        String sum = RollForwardFiles.checksum(content);
        Files.write(boot.resolve("..." + sum + ".hupdrw"), content);      // target "."
        Files.write(boot.resolve(".overlays." + sum + ".hupdrw"), content); // target is a folder
        RollForwardFiles.recover(boot);
        assertEquals(List.of("Image", "overlays/fin.dtbo"), names(boot));
        assertTrue(Files.isDirectory(boot.resolve("overlays")));
    }

    @Test
    void recoveryIsIdempotentAndAMissingFolderHasNothingToRecover() throws Exception {
        Path boot = boot();
        Files.write(RollForwardFiles.siblingOf(boot.resolve("Image"), NEW), NEW);
        assertFalse(RollForwardFiles.recover(boot).isEmpty());
        assertTrue(RollForwardFiles.recover(boot).isEmpty());
        assertTrue(RollForwardFiles.recover(tmp.resolve("absent")).isEmpty());
    }

    @Test
    void everyBootDirectoryOperationFirstFinishesAnInterruptedWrite() throws Exception {
        Path boot = boot();
        Files.write(RollForwardFiles.siblingOf(boot.resolve("Image"), NEW), NEW);
        BootDirectory dir = new BootDirectory(boot, () -> 4 << 20);
        Path backup = tmp.resolve("backup");
        dir.backup(backup, BootFilePolicy.BALENA);
        assertArrayEquals(NEW, Files.readAllBytes(backup.resolve("files/Image")),
                "the backup holds the completed write, not the state before it");
        assertFalse(names(backup).stream().anyMatch(n -> n.contains("hupdrw")), names(backup).toString());

        // A crash in the middle of a restore: one file's sibling is left; the next restore completes the job.
        Files.write(boot.resolve("Image"), OLD);
        Files.write(RollForwardFiles.siblingOf(boot.resolve("overlays/fin.dtbo"), NEW), Arrays.copyOf(NEW, 10));
        dir.restore(backup, BootFilePolicy.BALENA);
        assertArrayEquals(NEW, Files.readAllBytes(boot.resolve("Image")));
        assertArrayEquals(OLD, Files.readAllBytes(boot.resolve("overlays/fin.dtbo")));
        assertEquals(List.of("Image", "overlays/fin.dtbo"), names(boot));
    }
}
