package io.hupd.ports;

import java.io.IOException;
import java.nio.file.Path;

/** The boot partition's files (kernel, firmware, config.json), apart from the bootloader settings. */
public interface BootPartition {
    long freeBytes() throws IOException;

    /** Bytes the install would add (new files plus growth of replaced ones, minus what shrinks). */
    long bytesNeeded(Path newBootFiles, BootFilePolicy policy) throws IOException;

    /**
     * As {@link #bytesNeeded(Path, BootFilePolicy)}, from the sizes of the new boot files by their path under the
     * boot folder (what a survey of the image's layer knows before anything is written).
     */
    long bytesNeeded(java.util.Map<String, Long> newFileSizes, BootFilePolicy policy) throws IOException;

    /** Saves the current files so that {@link #restore} can put them back byte for byte; a complete backup is kept. */
    void backup(Path backupDir, BootFilePolicy policy) throws IOException;

    /** Copies the new OS's boot files in, each by atomic replace, honouring the policy. */
    void install(Path newBootFiles, BootFilePolicy policy) throws IOException;

    /** Puts back exactly the files of the backup (and removes files the update added). */
    void restore(Path backupDir, BootFilePolicy policy) throws IOException;

    boolean hasCompleteBackup(Path backupDir);
}
