package io.hupd.steps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The check of a layer kept between FETCHING and WRITING_ROOTFS: used only when it is whole and of that layer. */
class LayerCheckTest {
    private static final String LAYER = "sha256:" + "ab".repeat(32);

    @TempDir
    Path work;

    @Test
    void isReadBackAsItWasKept() throws Exception {
        LayerCheck kept = new LayerCheck(LAYER, null,
                new LayerCheck.NewRoot("VERSION_ID=2.1.0\n".getBytes(), 12345, Map.of("config.txt", 7L)));
        kept.save(work);
        LayerCheck read = LayerCheck.load(work, LAYER).orElseThrow();
        assertArrayEquals(kept.root().osRelease(), read.root().osRelease());
        assertEquals(12345, read.root().treeBytes());
        assertEquals(Map.of("config.txt", 7L), read.root().bootFiles());
        assertEquals(null, read.whyNotAsIs());
        new LayerCheck(LAYER, "whiteouts", new LayerCheck.NewRoot(null, 0, null)).save(work);
        assertEquals("whiteouts", LayerCheck.load(work, LAYER).orElseThrow().whyNotAsIs());
    }

    @Test
    void isNotUsedForAnotherLayerOrWhenDamagedOrMissing() throws Exception {
        assertTrue(LayerCheck.load(work, LAYER).isEmpty(), "missing");
        new LayerCheck(LAYER, null, new LayerCheck.NewRoot(null, 1, null)).save(work);
        assertTrue(LayerCheck.load(work, "sha256:" + "cd".repeat(32)).isEmpty(), "another layer");
        Path f = work.resolve(LayerCheck.FILE);
        String whole = Files.readString(f);
        Files.writeString(f, whole.substring(0, whole.length() / 2));
        assertTrue(LayerCheck.load(work, LAYER).isEmpty(), "truncated");
        Files.writeString(f, "{\"layer\":\"" + LAYER + "\"}");
        assertTrue(LayerCheck.load(work, LAYER).isEmpty(), "without what the checks read");
    }
}
