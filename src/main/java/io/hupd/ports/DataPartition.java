package io.hupd.ports;

import java.io.IOException;
import java.nio.file.Path;

/** hupd's folders in the data partition (the user's files there are never touched). */
public interface DataPartition {
    Path blobCache();

    /** Scratch space of one update, removed when it ends. */
    Path workDir(String updateId);

    /** The boot partition's files as they were before an update; kept until it is committed or rolled back. */
    Path bootBackupDir(String updateId);

    long freeBytes() throws IOException;
}
