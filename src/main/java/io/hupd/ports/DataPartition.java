package io.hupd.ports;

import java.io.IOException;
import java.nio.file.Path;

/** hupd's folders in the data partition (the user's files there are never touched). */
public interface DataPartition {
    /**
     * The free space a download never takes the data partition below: room for the device's applications and for
     * hupd's own database writes, which must go on to revert the update (SPEC §3: a device can always be reverted).
     */
    long MIN_FREE_BYTES = 8L << 20;

    Path blobCache();

    /** Scratch space of one update, removed when it ends. */
    Path workDir(String updateId);

    /** The boot partition's files as they were before an update; kept until it is committed or rolled back. */
    Path bootBackupDir(String updateId);

    long freeBytes() throws IOException;
}
