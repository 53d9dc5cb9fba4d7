package io.hupd.adapters.bootloader;

import io.hupd.fs.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * How the adapters put settings files on disk. Production always uses {@link #ATOMIC}; tests swap in a sink that
 * misbehaves, because a read-back failure cannot be provoked on a healthy disk (and permission tricks do not
 * work for root).
 */
interface SettingsFiles {
    void write(Path target, byte[] content) throws IOException;

    void delete(Path target) throws IOException;

    SettingsFiles ATOMIC = new SettingsFiles() {
        @Override
        public void write(Path target, byte[] content) throws IOException {
            AtomicFiles.write(target, content);
        }

        @Override
        public void delete(Path target) throws IOException {
            AtomicFiles.delete(target);
        }
    };
}
