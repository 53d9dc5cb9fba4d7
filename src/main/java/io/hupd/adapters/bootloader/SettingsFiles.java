package io.hupd.adapters.bootloader;

import io.hupd.adapters.fs.RollForwardFiles;
import io.hupd.fs.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * How the adapters put settings files on disk. Production always uses {@link #ATOMIC}; tests swap in a sink that
 * misbehaves, because a read-back failure cannot be provoked on a healthy disk (and permission tricks do not
 * work for root).
 *
 * <p>{@link #ATOMIC} writes through {@link RollForwardFiles}, as balena writes resinOS_uEnv.txt and grubenv
 * through fatrw: on a FAT boot partition a rename over the old file is not atomic, and the checksummed sibling
 * lets the next use of the partition finish the write. Deleting is a single directory-entry change.
 */
interface SettingsFiles {
    void write(Path target, byte[] content) throws IOException;

    void delete(Path target) throws IOException;

    SettingsFiles ATOMIC = new SettingsFiles() {
        @Override
        public void write(Path target, byte[] content) throws IOException {
            RollForwardFiles.write(target, content);
        }

        @Override
        public void delete(Path target) throws IOException {
            AtomicFiles.delete(target);
        }
    };
}
