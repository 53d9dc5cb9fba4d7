package io.hupd.image.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import io.hupd.image.oci.Digests;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The blob reader that hashes on a thread of its own: every byte handed over once, in order, and hashed. */
class HashingReadAheadTest {
    private static final int CHUNK = 256 * 1024;

    @TempDir
    Path tmp;

    private Path file(int size) throws IOException {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return Files.write(tmp.resolve("f" + size), b);
    }

    private static byte[] sha256(byte[] b) {
        MessageDigest md = Digests.newSha256();
        md.update(b);
        return md.digest();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 6 * CHUNK + 7})
    void handsOverAndHashesEveryByteInOrder(int size) throws IOException {
        Path f = file(size);
        MessageDigest md = Digests.newSha256();
        byte[] read;
        HashingReadAhead in = new HashingReadAhead(f, md, Long.MAX_VALUE);
        try (in) {
            // odd read sizes, so reads straddle the chunks
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[7919];
            int n;
            while ((n = in.read(buf, 0, buf.length)) >= 0) {
                out.write(buf, 0, n);
            }
            read = out.toByteArray();
        }
        byte[] expected = Files.readAllBytes(f);
        assertArrayEquals(expected, read);
        assertEquals(size, in.size());
        assertArrayEquals(sha256(expected), md.digest());
    }

    @Test
    void aFileLongerThanTheLimitShowsAsTheLimit() throws IOException {
        Path f = file(3 * CHUNK);
        MessageDigest md = Digests.newSha256();
        try (HashingReadAhead in = new HashingReadAhead(f, md, CHUNK + 1)) {
            assertEquals(CHUNK + 1, in.readAllBytes().length);
            assertEquals(CHUNK + 1, in.size());
        }
    }

    @Test
    void aReadErrorOnTheThreadIsRaisedByTheReader() throws IOException {
        // a folder opens, and reading it fails (EISDIR) on the read-ahead thread
        Path dir = Files.createDirectories(tmp.resolve("dir"));
        try (InputStream in = new HashingReadAhead(dir, Digests.newSha256(), Long.MAX_VALUE)) {
            assertThrows(IOException.class, in::readAllBytes);
        }
    }

    @Test
    void closingBeforeTheEndStopsTheThread() throws Exception {
        Path f = file(40 * CHUNK);
        HashingReadAhead in = new HashingReadAhead(f, Digests.newSha256(), Long.MAX_VALUE);
        in.read(new byte[10], 0, 10);
        in.close();
        assertFalse(Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("hupd-blob-read-ahead") && t.isAlive()),
                "no read-ahead thread left");
    }
}
