package io.hupd.image.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.Digests;
import io.hupd.image.oci.ImageSourceException;
import io.hupd.image.oci.MediaTypes;
import io.hupd.ports.Progress;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobStoreTest {
    private static final byte[] CONTENT = "layer bytes".getBytes(StandardCharsets.UTF_8);
    private static final Descriptor GOOD = new Descriptor(MediaTypes.OCI_LAYER_GZIP, Digests.of(CONTENT), CONTENT.length);

    @TempDir
    Path tmp;
    BlobStore store;

    @BeforeEach
    void setUp() {
        store = new BlobStore(tmp.resolve("cache"));
    }

    private List<Path> storedFiles() throws IOException {
        if (!Files.exists(tmp.resolve("cache"))) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(tmp.resolve("cache"))) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    @Test
    void putVerifiesAndStoresUnderTheDigest() throws IOException {
        AtomicLong advanced = new AtomicLong();
        Progress progress = new Progress() {
            @Override
            public void start(String task, long totalBytes) {}

            @Override
            public void advance(long bytes) {
                advanced.addAndGet(bytes);
            }

            @Override
            public void finish() {}
        };
        assertFalse(store.has(GOOD));
        assertEquals(CONTENT.length, store.put(GOOD, new ByteArrayInputStream(CONTENT), progress));
        assertEquals(CONTENT.length, advanced.get());
        assertTrue(store.has(GOOD));
        assertEquals(tmp.resolve("cache/blobs/sha256/" + GOOD.hex()), store.path(GOOD.digest()));
        store.verify(GOOD);
        assertEquals(List.of(store.path(GOOD.digest())), storedFiles());
    }

    private void assertRefused(Descriptor d, byte[] content, String expected) throws IOException {
        ImageSourceException e = assertThrows(ImageSourceException.class,
                () -> store.put(d, new ByteArrayInputStream(content), Progress.NONE));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(store.has(d));
        assertEquals(List.of(), storedFiles(), "nothing left behind");
    }

    @Test
    void digestMismatchIsRefused() throws IOException {
        byte[] other = "layer bytez".getBytes(StandardCharsets.UTF_8);
        assertRefused(GOOD, other, "digest mismatch: expected " + GOOD.digest() + ", got " + Digests.of(other));
    }

    @Test
    void truncatedStreamIsRefused() throws IOException {
        assertRefused(GOOD, "layer".getBytes(StandardCharsets.UTF_8), "truncated: got 5 of 11 bytes");
    }

    @Test
    void extraBytesAreRefused() throws IOException {
        assertRefused(GOOD, "layer bytes and more".getBytes(StandardCharsets.UTF_8), "larger than its declared size 11");
    }

    @Test
    void declaredSizeMismatchIsRefused() throws IOException {
        Descriptor wrongSize = new Descriptor(GOOD.mediaType(), GOOD.digest(), 4);
        assertRefused(wrongSize, CONTENT, "larger than its declared size 4");
    }

    @Test
    void anEndlessStreamIsCutOffAtTheDeclaredSize() throws IOException {
        AtomicLong served = new AtomicLong();
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                served.incrementAndGet();
                return 0;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                served.addAndGet(len);
                return len;
            }
        };
        ImageSourceException e = assertThrows(ImageSourceException.class, () -> store.put(GOOD, endless, Progress.NONE));
        assertTrue(e.getMessage().contains("larger than its declared size"), e.getMessage());
        assertEquals(CONTENT.length + 1, served.get(), "reads stop one byte past the declared size");
        assertEquals(List.of(), storedFiles());
    }

    @Test
    void verifyDeletesACorruptBlob() throws IOException {
        store.put(GOOD, new ByteArrayInputStream(CONTENT), Progress.NONE);
        Files.write(store.path(GOOD.digest()), "LAYER BYTES".getBytes(StandardCharsets.UTF_8));
        assertTrue(store.has(GOOD), "same size: has() does not re-hash");
        ImageSourceException e = assertThrows(ImageSourceException.class, () -> store.verify(GOOD));
        assertTrue(e.getMessage().contains("is corrupt"), e.getMessage());
        assertFalse(Files.exists(store.path(GOOD.digest())));
        ImageSourceException missing = assertThrows(ImageSourceException.class, () -> store.verify(GOOD));
        assertTrue(missing.getMessage().contains("missing"), missing.getMessage());
    }

    @Test
    void verifyCatchesAWrongSize() throws IOException {
        store.put(GOOD, new ByteArrayInputStream(CONTENT), Progress.NONE);
        Files.write(store.path(GOOD.digest()), "short".getBytes(StandardCharsets.UTF_8));
        assertFalse(store.has(GOOD));
        ImageSourceException e = assertThrows(ImageSourceException.class, () -> store.verify(GOOD));
        assertTrue(e.getMessage().contains("has 5 bytes, expected 11"), e.getMessage());
        assertFalse(Files.exists(store.path(GOOD.digest())));
    }

    @Test
    void pathRefusesMalformedDigests() {
        assertThrows(IllegalArgumentException.class, () -> store.path("sha256:../../etc/passwd"));
    }
    @Test
    void verifyingStreamPassesAnIntactBlobEvenWhenTheReaderStopsEarlyOrSkips() throws IOException {
        store.put(GOOD, new ByteArrayInputStream(CONTENT), Progress.NONE);
        try (BlobStore.VerifyingStream s = store.openVerifying(GOOD)) {
            assertEquals('l', s.read());
            assertEquals(3, s.skip(3));
            s.check();
        }
        assertTrue(store.has(GOOD));
    }

    @Test
    void verifyingStreamRefusesAndDeletesABlobDamagedInTheStore() throws IOException {
        store.put(GOOD, new ByteArrayInputStream(CONTENT), Progress.NONE);
        byte[] damaged = CONTENT.clone();
        damaged[damaged.length - 1] ^= 1;
        Files.write(store.path(GOOD.digest()), damaged);
        BlobStore.VerifyingStream s = store.openVerifying(GOOD);
        s.read(new byte[4], 0, 4);
        s.close();
        ImageSourceException e = assertThrows(ImageSourceException.class, s::check);
        assertTrue(e.getMessage().contains("is corrupt"), e.getMessage());
        assertFalse(Files.exists(store.path(GOOD.digest())));
    }

    @Test
    void verifyingStreamRefusesABlobLongerThanDeclared() throws IOException {
        store.put(GOOD, new ByteArrayInputStream(CONTENT), Progress.NONE);
        Files.write(store.path(GOOD.digest()), "layer bytes and more".getBytes(StandardCharsets.UTF_8));
        BlobStore.VerifyingStream s = store.openVerifying(GOOD);
        ImageSourceException e = assertThrows(ImageSourceException.class, s::check);
        assertTrue(e.getMessage().contains("more than"), e.getMessage());
    }

    @Test
    void verifyingStreamOfAMissingBlobSaysSo() {
        ImageSourceException e = assertThrows(ImageSourceException.class, () -> store.openVerifying(GOOD));
        assertTrue(e.getMessage().contains("missing from the store"), e.getMessage());
    }
}
