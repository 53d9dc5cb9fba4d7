package io.hupd.image.rootfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.image.oci.MediaTypes;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileArchivesTest {
    @TempDir
    static Path tmp;
    Path outside;
    Path sentinel;
    FileTime sentinelTime;
    List<HostileArchives.Case> cases;

    @BeforeAll
    void writeCorpus() throws IOException {
        outside = Files.createDirectories(tmp.resolve("outside"));
        sentinel = Files.writeString(outside.resolve("sentinel.txt"), "sentinel");
        sentinelTime = Files.getLastModifiedTime(sentinel);
        cases = HostileArchives.write(tmp.resolve("corpus"), outside);
    }

    Stream<HostileArchives.Case> cases() {
        return cases.stream();
    }

    /** The cases a survey can meet: it is made only of one-layer images. */
    Stream<HostileArchives.Case> oneLayerCases() {
        return cases.stream().filter(c -> c.layers().size() == 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void isRefusedAndNothingOutsideTheRootChanges(HostileArchives.Case c) throws IOException {
        Path work = Files.createDirectories(tmp.resolve("work").resolve(c.name()));
        Path root = Files.createDirectories(work.resolve("root"));
        List<String> types = Collections.nCopies(c.layers().size(), MediaTypes.OCI_LAYER_GZIP);

        UserInputException e = assertThrows(UserInputException.class,
                () -> LayerFlattener.flatten(c.layers(), types, root, c.limits()));

        assertRefusedAndContained(c, e, work, root);
    }

    /**
     * The check-only pass that comes before mke2fs reads a layer itself refuses exactly what flattening does, with
     * the same words, and writes nothing at all.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("oneLayerCases")
    void isRefusedBySurveyAsByFlatteningAndNothingIsWritten(HostileArchives.Case c) throws IOException {
        Path work = Files.createDirectories(tmp.resolve("survey").resolve(c.name()));
        Path layer = c.layers().get(0);

        UserInputException e = assertThrows(UserInputException.class,
                () -> LayerFlattener.survey(() -> Files.newInputStream(layer), MediaTypes.OCI_LAYER_GZIP,
                        c.limits(), p -> p.equals("etc/os-release"), 1024));

        assertRefusedAndContained(c, e, work, null);
        Path flattened = Files.createDirectories(tmp.resolve("survey-control").resolve(c.name()));
        UserInputException byFlattening = assertThrows(UserInputException.class,
                () -> LayerFlattener.flatten(c.layers(), List.of(MediaTypes.OCI_LAYER_GZIP), flattened, c.limits()));
        assertEquals(byFlattening.getMessage(), e.getMessage());
    }

    /** @param root the folder the layers were flattened into; null for a survey, which has none */
    private void assertRefusedAndContained(HostileArchives.Case c, UserInputException e, Path work, Path root)
            throws IOException {
        assertTrue(e.getMessage().contains(c.expected()), "'" + e.getMessage() + "' lacks '" + c.expected() + "'");
        assertTrue(e.getMessage().matches("layer \\d+( entry '| whiteout | after entry '|: ).*"), e.getMessage());
        assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\0"), "one line: " + e.getMessage());
        assertEquals("sentinel", Files.readString(sentinel));
        assertEquals(sentinelTime, Files.getLastModifiedTime(sentinel));
        try (Stream<Path> s = Files.list(outside)) {
            assertEquals(List.of(sentinel), s.toList(), "nothing created beside the sentinel");
        }
        try (Stream<Path> s = Files.list(work)) {
            assertEquals(root == null ? List.of() : List.of(root), s.toList(), "nothing created beside the root");
        }
        assertFalse(Files.exists(Path.of("/", HostileArchives.ESCAPE_NAME)));
        assertFalse(Files.exists(Path.of("/tmp", HostileArchives.ESCAPE_NAME)));
        assertFalse(Files.exists(Path.of(HostileArchives.ESCAPE_NAME)), "nothing in the working folder either");
    }

    @Test
    void theBombIsSmallOnDiskAndHugeInside() throws IOException {
        HostileArchives.Case bomb = cases.stream().filter(c -> c.name().equals("gzip-bomb")).findFirst().orElseThrow();
        long size = Files.size(bomb.layers().get(0));
        assertTrue(size < 8 << 20, "compressed " + size);
        assertTrue(HostileArchives.BOMB_BYTES > 100 * size);
    }

    @Test
    void theCorpusCoversEveryNamedAttack() {
        List<String> names = cases.stream().map(HostileArchives.Case::name).toList();
        for (String required : List.of("dotdot-escape", "absolute-path", "symlink-escape",
                "symlink-to-inside-dir-then-write", "hardlink-dotdot", "hardlink-to-symlink", "whiteout-dot-dot",
                "whiteout-bare", "whiteout-dotdot-parent", "char-device", "fifo", "duplicate-entry",
                "200k-entries-over-limit", "gzip-bomb", "path-over-limit", "two-layer-symlink-escape")) {
            assertTrue(names.contains(required), required);
        }
    }
}
