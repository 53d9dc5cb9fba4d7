package io.hupd.fs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads of files that live on a device and that anyone with a shell on it (or a damaged disk) can make any size.
 * hupd runs in a 64 MiB heap next to the user's applications: a whole-file read of a 30 MB settings file is an
 * OutOfMemoryError, so every such read has a cap fitted to what the file can legitimately hold, and a file over
 * it is a one-line error naming the file.
 */
public final class BoundedFiles {
    /** Bootloader settings: a U-Boot text env or a GRUB block is a few hundred bytes; U-Boot's env is at most 1 MiB. */
    public static final int SETTINGS = 1 << 20;
    /** Small state files hupd writes itself (markers, breadcrumbs, run/ files, versions, tokens). */
    public static final int SMALL = 64 * 1024;
    /** JSON documents hupd or the user writes (device.json, the status snapshot, pinned image, layer checks). */
    public static final int DOCUMENT = 4 * 1024 * 1024;

    /** A file larger than its cap. */
    public static final class TooLarge extends IOException {
        public TooLarge(String message) {
            super(message);
        }
    }

    private BoundedFiles() {}

    /** The whole file, or {@link TooLarge} when it holds more than {@code max} bytes (it is not read past that). */
    public static byte[] read(Path file, int max) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] content = in.readNBytes(max + 1);
            if (content.length > max) {
                // a device node or a file still growing can report a size at or under the cap
                long size = sizeOr(file, -1);
                throw new TooLarge(file + (size > max ? " is " + size + " bytes, more than" : " holds more than")
                        + " the " + max + " bytes hupd reads from it: it is not what hupd wrote there");
            }
            return content;
        }
    }

    public static String readString(Path file, int max) throws IOException {
        return new String(read(file, max), StandardCharsets.UTF_8);
    }

    private static long sizeOr(Path file, long fallback) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return fallback;
        }
    }
}
