package io.hupd.image.delta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PatchTest {
    @TempDir
    Path tmp;

    private byte[] patch(byte[] source, byte[] target) throws IOException {
        Path s = Files.write(tmp.resolve("s"), source);
        Path t = Files.write(tmp.resolve("t"), target);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PatchEncoder(6).encode(s, t, out);
        return out.toByteArray();
    }

    private byte[] apply(byte[] source, byte[] patch) throws IOException {
        Path s = Files.write(tmp.resolve("s-apply"), source);
        try (FileChannel c = FileChannel.open(s);
                PatchInputStream in = new PatchInputStream(new ByteArrayInputStream(patch), c)) {
            return in.readAllBytes();
        }
    }

    /** Incompressible source; the target has edits in place, an insertion, a deletion and new bytes. */
    static byte[][] pair(long seed) {
        Random r = new Random(seed);
        byte[] source = new byte[3 << 20];
        r.nextBytes(source);
        ByteArrayOutputStream t = new ByteArrayOutputStream();
        byte[] head = java.util.Arrays.copyOfRange(source, 0, 1 << 20);
        for (int i = 100; i < head.length; i += 4096) {
            head[i] ^= 0x5a; // a rebuilt binary: one byte in each page differs
        }
        t.writeBytes(head);
        byte[] fresh = new byte[20_000];
        r.nextBytes(fresh);
        t.writeBytes(fresh); // an added file
        t.write(source, (1 << 20) + 333, (1 << 20) - 333); // moved by the insertion, 333 bytes deleted
        t.write(source, 2 << 20, 1 << 20);
        return new byte[][] {source, t.toByteArray()};
    }

    @Test
    void roundTripIsExactAndSmall() throws IOException {
        byte[][] p = pair(1);
        byte[] patch = patch(p[0], p[1]);
        assertArrayEquals(p[1], apply(p[0], patch));
        // 20 000 new bytes, 256 single-byte edits: a few hundred bytes of overhead at most
        assertTrue(patch.length < 20_000 + 256 * 8 + 1000, "patch of " + patch.length + " bytes");
    }

    @Test
    void emptySourceAndEmptyTarget() throws IOException {
        byte[] target = "hello hello hello hello hello hello".getBytes();
        assertArrayEquals(target, apply(new byte[0], patch(new byte[0], target)));
        assertArrayEquals(new byte[0], apply(target, patch(target, new byte[0])));
    }

    @Test
    void aCorruptPatchIsRefused() throws IOException {
        byte[][] p = pair(2);
        byte[] patch = patch(p[0], p[1]);
        patch[patch.length / 2] ^= 0x01;
        assertThrows(IOException.class, () -> apply(p[0], patch));
    }

    @Test
    void aTruncatedPatchIsRefused() throws IOException {
        byte[][] p = pair(3);
        byte[] patch = patch(p[0], p[1]);
        byte[] cut = java.util.Arrays.copyOf(patch, patch.length - 20);
        assertThrows(IOException.class, () -> apply(p[0], cut));
    }

    @Test
    void aShorterSourceIsRefused() throws IOException {
        byte[][] p = pair(4);
        byte[] patch = patch(p[0], p[1]);
        byte[] other = java.util.Arrays.copyOf(p[0], 1 << 20);
        IOException e = assertThrows(IOException.class, () -> apply(other, patch));
        assertTrue(e.getMessage().contains("another source"), e.getMessage());
    }

    @Test
    void varintsAndZigzagRoundTrip() throws IOException {
        for (long v : new long[] {0, 1, -1, 127, 128, -129, Integer.MAX_VALUE, Long.MIN_VALUE / 4}) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PatchFormat.writeVarint(out, PatchFormat.zigzag(v));
            assertEquals(v, PatchFormat.unzigzag(PatchFormat.readVarint(new ByteArrayInputStream(out.toByteArray()))));
        }
    }
}
