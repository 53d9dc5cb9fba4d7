package io.hupd.image.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.Digests;
import io.hupd.image.oci.MediaTypes;
import io.hupd.ports.Progress;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a blob while the fetch writes it: every byte, or a clear "not the blob". */
class BlobFollowerTest {
    @TempDir
    Path tmp;
    BlobStore store;
    byte[] content;
    Descriptor blob;

    @BeforeEach
    void setUp() {
        store = new BlobStore(tmp.resolve("cache"));
        content = new byte[3 << 20];
        new Random(7).nextBytes(content);
        blob = new Descriptor(MediaTypes.OCI_LAYER_GZIP, Digests.of(content), content.length);
    }

    /** A source that hands its bytes over slowly, so the follower catches up with the writer again and again. */
    private static InputStream trickle(byte[] b) {
        return new ByteArrayInputStream(b) {
            @Override
            public synchronized int read(byte[] dst, int off, int len) {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.read(dst, off, Math.min(len, 64 * 1024));
            }
        };
    }

    /** Writes the blob with {@link BlobStore#put} on another thread, then tells the follower how it went. */
    private CompletableFuture<Void> fetch(BlobFollower follower, InputStream source) {
        return CompletableFuture.runAsync(() -> {
            try {
                store.put(blob, source, Progress.NONE);
                follower.writerDone();
            } catch (IOException e) {
                follower.writerFailed();
            }
        });
    }

    @Test
    void readsEveryByteAsItIsWrittenAndKnowsItWasTheBlob() throws Exception {
        BlobFollower follower = new BlobFollower(store, blob);
        CompletableFuture<Void> writing = fetch(follower, trickle(content));
        byte[] read;
        try (InputStream in = follower.open()) {
            read = in.readAllBytes();
        }
        writing.get(30, TimeUnit.SECONDS);
        assertArrayEquals(content, read);
        assertTrue(follower.readWhatWasVerified());
        assertTrue(store.has(blob));
    }

    @Test
    void aReaderThatStopsEarlyStillHasTheWholeBlobHashedWhenItCloses() throws Exception {
        BlobFollower follower = new BlobFollower(store, blob);
        CompletableFuture<Void> writing = fetch(follower, trickle(content));
        try (InputStream in = follower.open()) {
            assertArrayEquals(java.util.Arrays.copyOf(content, 100), in.readNBytes(100));
        }
        writing.get(30, TimeUnit.SECONDS);
        assertTrue(follower.readWhatWasVerified());
    }

    @Test
    void aBlobAlreadyInTheCacheIsNotFollowed() throws Exception {
        store.put(blob, new ByteArrayInputStream(content), Progress.NONE);
        BlobFollower follower = new BlobFollower(store, blob);
        follower.writerDone();
        assertThrows(IOException.class, follower::open);
        assertFalse(follower.readWhatWasVerified());
    }

    @Test
    void aFailedFetchEndsTheReadWithAnError() throws Exception {
        byte[] wrong = content.clone();
        wrong[wrong.length - 1] ^= 1;
        BlobFollower follower = new BlobFollower(store, blob);
        CompletableFuture<Void> writing = fetch(follower, trickle(wrong));
        IOException e = assertThrows(IOException.class, () -> {
            try (InputStream in = follower.open()) {
                in.readAllBytes();
            }
        });
        writing.get(30, TimeUnit.SECONDS);
        assertFalse(follower.readWhatWasVerified(), e.getMessage());
        assertFalse(store.has(blob));
    }

    @Test
    void bytesThatAreNotTheBlobAreToldApart() throws Exception {
        // a writer that gave up on this file (the next source starts a file of its own): what was followed is
        // only a prefix of the blob, and it says so
        Files.createDirectories(store.path(blob.digest()).getParent());
        Path abandoned = store.path(blob.digest()).resolveSibling(".tmp-" + blob.hex() + "-1");
        Files.write(abandoned, java.util.Arrays.copyOf(content, 1000));
        BlobFollower follower = new BlobFollower(store, blob);
        follower.writerDone();
        try (InputStream in = follower.open()) {
            assertArrayEquals(java.util.Arrays.copyOf(content, 1000), in.readAllBytes());
        }
        assertFalse(follower.readWhatWasVerified());
    }
}
