package io.hupd.image.rootfs;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Builds test layers entry by entry, exactly as written (names are not cleaned up, so hostile ones survive). */
final class TarLayer {
    /** Content that is streamed rather than held: {@code size} bytes of zeros. */
    private record Entry(TarArchiveEntry header, byte[] content, long zeros) {}

    private final List<Entry> entries = new ArrayList<>();

    static TarLayer create() {
        return new TarLayer();
    }

    private static TarArchiveEntry header(String name, byte type) {
        TarArchiveEntry e = new TarArchiveEntry(name, type, true);
        e.setUserName("");
        e.setGroupName("");
        e.setUserId(0L);
        e.setGroupId(0L);
        e.setModTime(1_600_000_000_000L);
        return e;
    }

    TarLayer dir(String name) {
        return dir(name, 0755);
    }

    TarLayer dir(String name, int mode) {
        TarArchiveEntry e = header(name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR);
        e.setMode(mode);
        entries.add(new Entry(e, null, 0));
        return this;
    }

    TarLayer file(String name, String content) {
        return file(name, content.getBytes(StandardCharsets.UTF_8), 0644);
    }

    TarLayer file(String name, byte[] content, int mode) {
        TarArchiveEntry e = header(name, TarConstants.LF_NORMAL);
        e.setMode(mode);
        e.setSize(content.length);
        entries.add(new Entry(e, content, 0));
        return this;
    }

    TarLayer owned(String name, String content, int mode, int uid, int gid) {
        file(name, content.getBytes(StandardCharsets.UTF_8), mode);
        TarArchiveEntry e = entries.get(entries.size() - 1).header();
        e.setUserId((long) uid);
        e.setGroupId((long) gid);
        return this;
    }

    /** A file whose PAX header carries a comment of {@code bytes} bytes. */
    TarLayer paxComment(String name, int bytes) {
        file(name, new byte[0], 0644);
        entries.get(entries.size() - 1).header().addPaxHeader("comment", "c".repeat(bytes));
        return this;
    }

    TarLayer zeros(String name, long size) {
        TarArchiveEntry e = header(name, TarConstants.LF_NORMAL);
        e.setMode(0644);
        e.setSize(size);
        entries.add(new Entry(e, null, size));
        return this;
    }

    /** The header of the entry added last, for extra PAX records. */
    TarArchiveEntry lastHeader() {
        return entries.get(entries.size() - 1).header();
    }

    TarLayer symlink(String name, String target) {
        TarArchiveEntry e = header(name, TarConstants.LF_SYMLINK);
        e.setLinkName(target);
        e.setMode(0777);
        entries.add(new Entry(e, null, 0));
        return this;
    }

    TarLayer hardlink(String name, String target) {
        TarArchiveEntry e = header(name, TarConstants.LF_LINK);
        e.setLinkName(target);
        e.setMode(0644);
        entries.add(new Entry(e, null, 0));
        return this;
    }

    TarLayer special(String name, byte type) {
        TarArchiveEntry e = header(name, type);
        e.setMode(0600);
        if (type == TarConstants.LF_CHR || type == TarConstants.LF_BLK) {
            e.setDevMajor(1);
            e.setDevMinor(3);
        }
        entries.add(new Entry(e, null, 0));
        return this;
    }

    TarLayer whiteout(String name) {
        return file(name, new byte[0], 0644);
    }

    Path writeGzip(Path file) throws IOException {
        return write(file, true);
    }

    Path writeTar(Path file) throws IOException {
        return write(file, false);
    }

    private Path write(Path file, boolean gzip) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
                OutputStream compressed = gzip ? new FastGzip(raw) : raw;
                TarArchiveOutputStream tar = new TarArchiveOutputStream(compressed, "UTF-8")) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            byte[] zeros = new byte[1 << 16];
            for (Entry e : entries) {
                tar.putArchiveEntry(e.header());
                if (e.content() != null) {
                    tar.write(e.content());
                }
                for (long left = e.zeros(); left > 0; left -= zeros.length) {
                    tar.write(zeros, 0, (int) Math.min(zeros.length, left));
                }
                tar.closeArchiveEntry();
            }
            tar.finish();
        }
        return file;
    }

    /** Level 1: the corpus has a gigabyte of zeros to squeeze and the test budget is seconds. */
    static final class FastGzip extends GZIPOutputStream {
        FastGzip(OutputStream out) throws IOException {
            super(out, 1 << 16);
            def.setLevel(Deflater.BEST_SPEED);
        }
    }
}
