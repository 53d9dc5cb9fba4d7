package io.hupd.adapters.bootloader;

import io.hupd.ports.BootSettingsException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Where the copies of a binary U-Boot environment are ({@code fw_env.config}), their bytes as read, and which one
 * U-Boot and libubootenv take as current. What is inside a copy is {@link UBootEnvEntries}'s job.
 */
public final class UBootEnvCopies {
    private UBootEnvCopies() {}

    /** Puts one copy's bytes on disk; swapped in tests to simulate torn or lost writes. */
    public interface CopyWriter {
        void write(Path file, long offset, byte[] copy) throws IOException;
    }

    /** In place and forced: the other copy stays intact until this one is complete, which is the atomicity. */
    public static final CopyWriter IN_PLACE = (file, offset, copy) -> {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(copy);
            long pos = offset;
            while (buf.hasRemaining()) {
                pos += ch.write(buf, pos);
            }
            ch.force(true);
        }
    };

    public record Location(Path file, long offset, int size) {}

    /** One copy as read: {@code flags} is -1 in the single-copy layout. */
    public record Copy(Location where, boolean crcOk, int flags, byte[] raw) {
        public int dataStart() {
            return flags < 0 ? 4 : 5;
        }
    }


    /** The copies fw_env.config describes, in its order; libubootenv's config syntax, minus MTD/UBI devices. */
    static List<Location> locations(Path bootDir) throws IOException {
        Path config = bootDir.resolve(UBootBinaryEnv.CONFIG_FILE);
        List<String> lines;
        try {
            lines = java.util.Arrays.asList(new String(io.hupd.fs.BoundedFiles.read(config,
                    io.hupd.fs.BoundedFiles.SMALL), StandardCharsets.ISO_8859_1).split("\r?\n"));
        } catch (NoSuchFileException e) {
            throw UBootText.bad(config, "missing");
        }
        List<Location> out = new ArrayList<>();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] cols = line.split("\\s+");
            if (cols.length < 3) {
                throw UBootText.bad(config, "line " + (n + 1) + " needs: file offset size");
            }
            long offset = number(config, n + 1, cols[1]);
            long size = number(config, n + 1, cols[2]);
            if (size < 8 || size > (1 << 20)) {
                throw UBootText.bad(config, "line " + (n + 1) + ": environment size " + cols[2] + " out of range");
            }
            out.add(new Location(bootDir.resolve(cols[0]), offset, (int) size));
        }
        if (out.isEmpty() || out.size() > 2) {
            throw UBootText.bad(config, "describes " + out.size() + " copies; expected 1 or 2");
        }
        if (out.size() == 2 && out.get(0).size() != out.get(1).size()) {
            throw UBootText.bad(config, "the two copies differ in size");
        }
        return out;
    }

    private static long number(Path config, int line, String s) throws BootSettingsException {
        try {
            return s.startsWith("0x") || s.startsWith("0X") ? Long.parseLong(s.substring(2), 16) : Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw UBootText.bad(config, "line " + line + ": '" + UBootText.clip(s) + "' is not a number");
        }
    }

    /** Reads every copy, each with whether its CRC matches. */
    public static List<Copy> read(Path bootDir) throws IOException {
        List<Location> where = locations(bootDir);
        List<Copy> copies = new ArrayList<>();
        for (Location l : where) {
            byte[] raw = new byte[l.size()];
            try (FileChannel ch = FileChannel.open(l.file(), StandardOpenOption.READ)) {
                ByteBuffer buf = ByteBuffer.wrap(raw);
                long pos = l.offset();
                while (buf.hasRemaining()) {
                    int r = ch.read(buf, pos);
                    if (r < 0) {
                        throw UBootText.bad(l.file(), "ends before the copy at offset 0x" + Long.toHexString(l.offset())
                                + " of 0x" + Integer.toHexString(l.size()) + " bytes");
                    }
                    pos += r;
                }
            } catch (NoSuchFileException e) {
                throw UBootText.bad(l.file(), "missing");
            }
            int dataStart = where.size() == 2 ? 5 : 4;
            CRC32 crc = new CRC32();
            crc.update(raw, dataStart, raw.length - dataStart);
            long stored = ByteBuffer.wrap(raw, 0, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
            copies.add(new Copy(l, crc.getValue() == stored, where.size() == 2 ? raw[4] & 0xff : -1, raw));
        }
        return copies;
    }

    /** U-Boot's and libubootenv's choice: the valid copy; of two, the higher counter, 0 beating 255, ties the first. */
    public static Copy current(List<Copy> copies) {
        if (copies.size() == 1) {
            return copies.get(0).crcOk() ? copies.get(0) : null;
        }
        Copy a = copies.get(0);
        Copy b = copies.get(1);
        if (a.crcOk() != b.crcOk()) {
            return a.crcOk() ? a : b;
        }
        if (!a.crcOk()) {
            return null;
        }
        if (a.flags() == 0xff && b.flags() == 0) {
            return b;
        }
        if (b.flags() == 0xff && a.flags() == 0) {
            return a;
        }
        return b.flags() > a.flags() ? b : a;
    }

    static Copy currentOrThrow(List<Copy> copies) throws BootSettingsException {
        Copy c = current(copies);
        if (c == null) {
            Path file = copies.get(0).where().file();
            throw UBootText.bad(file, copies.size() == 2 ? "neither copy has a valid CRC (U-Boot would boot on its"
                    + " built-in defaults)" : "the environment's CRC does not match");
        }
        return c;
    }
}
