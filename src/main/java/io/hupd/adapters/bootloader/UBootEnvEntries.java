package io.hupd.adapters.bootloader;

import io.hupd.adapters.bootloader.UBootEnvCopies.Copy;
import io.hupd.ports.BootSettingsException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The inside of one copy of a binary U-Boot environment: CRC32 (little-endian) over the rest, a flags byte in
 * the redundant layout, then {@code name=value\0} entries ended by an empty one.
 */
public final class UBootEnvEntries {
    private UBootEnvEntries() {}

    /** Entries up to the empty one; refuses what U-Boot would read differently or hupd could not write back. */
    public static LinkedHashMap<String, String> parseStrict(Copy copy) throws BootSettingsException {
        byte[] raw = copy.raw();
        Path file = copy.where().file();
        String at = " in the copy at offset 0x" + Long.toHexString(copy.where().offset());
        LinkedHashMap<String, String> vars = new LinkedHashMap<>();
        int p = copy.dataStart();
        while (true) {
            if (p >= raw.length) {
                throw UBootText.bad(file, "entries run to the end of the environment" + at);
            }
            if (raw[p] == 0) {
                return vars;
            }
            int start = p;
            while (p < raw.length && raw[p] != 0) {
                p++;
            }
            if (p >= raw.length) {
                throw UBootText.bad(file, "entries run to the end of the environment" + at);
            }
            String entry = new String(raw, start, p - start, StandardCharsets.ISO_8859_1);
            p++;
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw UBootText.bad(file, "malformed entry '" + UBootText.clip(entry) + "'" + at);
            }
            String name = entry.substring(0, eq);
            if (vars.put(name, entry.substring(eq + 1)) != null) {
                throw UBootText.bad(file, "duplicate variable " + name + at);
            }
        }
    }

    /** Entries as U-Boot's lenient import takes them: an entry without a value removes the variable. */
    public static LinkedHashMap<String, String> parseLenient(Copy copy) {
        byte[] raw = copy.raw();
        LinkedHashMap<String, String> vars = new LinkedHashMap<>();
        int p = copy.dataStart();
        while (p < raw.length && raw[p] != 0) {
            int start = p;
            while (p < raw.length && raw[p] != 0) {
                p++;
            }
            String entry = new String(raw, start, p - start, StandardCharsets.ISO_8859_1);
            p++;
            int eq = entry.indexOf('=');
            if (eq > 0 && eq < entry.length() - 1) {
                vars.put(entry.substring(0, eq), entry.substring(eq + 1));
            } else if (eq != 0) {
                vars.remove(eq < 0 ? entry : entry.substring(0, eq));
            }
        }
        return vars;
    }

    static byte[] build(Map<String, String> vars, int flags, int size, Path file) throws BootSettingsException {
        byte[] image = buildLenient(vars, flags, size);
        if (image == null) {
            throw UBootText.bad(file, "the variables do not fit in an environment of 0x" + Integer.toHexString(size)
                    + " bytes");
        }
        return image;
    }

    /** One copy's bytes, zero padded as U-Boot's env export leaves them; null when the variables do not fit. */
    public static byte[] buildLenient(Map<String, String> vars, int flags, int size) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Map.Entry<String, String> e : vars.entrySet()) {
            data.writeBytes((e.getKey() + "=" + e.getValue()).getBytes(StandardCharsets.ISO_8859_1));
            data.write(0);
        }
        data.write(0);
        int dataStart = flags < 0 ? 4 : 5;
        if (dataStart + data.size() > size) {
            return null;
        }
        byte[] image = new byte[size];
        System.arraycopy(data.toByteArray(), 0, image, dataStart, data.size());
        if (flags >= 0) {
            image[4] = (byte) flags;
        }
        CRC32 crc = new CRC32();
        crc.update(image, dataStart, size - dataStart);
        ByteBuffer.wrap(image, 0, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue());
        return image;
    }
}
