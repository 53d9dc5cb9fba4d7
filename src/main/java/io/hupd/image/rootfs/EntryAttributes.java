package io.hupd.image.rootfs;

import java.nio.file.attribute.FileTime;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/** Owner, mode and mtime of an entry, applied after its content. */
record EntryAttributes(int uid, int gid, int mode, FileTime mtime) {
    static EntryAttributes of(TarArchiveEntry e) {
        return new EntryAttributes((int) e.getLongUserId(), (int) e.getLongGroupId(), e.getMode() & 07777,
                e.getLastModifiedTime());
    }
}
