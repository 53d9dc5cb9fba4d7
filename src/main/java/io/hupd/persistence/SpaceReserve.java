package io.hupd.persistence;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Headroom for the database's own writes. The data partition is shared with the user's applications, which may
 * fill it at any moment (in the middle of a download, say); H2 closes a database whose write fails, and from then
 * on nothing could be persisted, not even the transitions that revert the update. So hupd keeps a file of zeros
 * it owns next to the database and deletes it before a write that might not find room; the freed space carries
 * the update to its end, and the file is made again once there is room.
 */
final class SpaceReserve {
    static final String NAME = "space-reserve";
    static final long BYTES = 4L << 20;

    private final Path dir;
    private final Path file;
    private FileStore store;

    SpaceReserve(Path dir) {
        this.dir = dir;
        this.file = dir.resolve(NAME);
    }

    private long usable() throws IOException {
        if (store == null) {
            store = Files.getFileStore(dir);
        }
        return store.getUsableSpace();
    }

    /** Before a database write: gives the reserve's space back when less than that much is left. */
    void releaseIfLow() {
        try {
            if (Files.exists(file) && usable() < BYTES) {
                Files.delete(file);
            }
        } catch (IOException e) {
            // without the reserve the write is tried anyway; it may still find room
        }
    }

    /** Makes the reserve when it is missing and the partition has room for it twice over. */
    void refill() {
        try {
            if (Files.exists(file) || !Files.isDirectory(dir) || usable() < 2 * BYTES) {
                return;
            }
            // Real zeros, not a sparse file: only written blocks hold space that can be given back.
            Path tmp = dir.resolve("." + NAME + ".tmp");
            byte[] zeros = new byte[64 * 1024];
            try (OutputStream out = Files.newOutputStream(tmp)) {
                for (long n = 0; n < BYTES; n += zeros.length) {
                    out.write(zeros);
                }
            } catch (IOException e) {
                Files.deleteIfExists(tmp);
                return;
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // a reserve is a safety margin, never a reason for a command to fail
        }
    }
}
