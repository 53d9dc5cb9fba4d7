package io.hupd.image.delta;

import io.hupd.image.oci.ImageSourceException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The patch stream, before xz: the magic {@code hupdpat1}, the target size as a varint, then instructions until
 * END. {@code ADD len bytes} appends new bytes; {@code COPY len delta} appends {@code len} bytes of the source
 * starting {@code delta} (zigzag varint) after where the previous copy ended.
 */
final class PatchFormat {
    static final byte[] MAGIC = "hupdpat1".getBytes(StandardCharsets.US_ASCII);
    static final int END = 0;
    static final int ADD = 1;
    static final int COPY = 2;

    private PatchFormat() {}

    static void writeHeader(OutputStream out, long targetSize) throws IOException {
        out.write(MAGIC);
        writeVarint(out, targetSize);
    }

    /** @return the target size the patch declares */
    static long readHeader(InputStream in) throws IOException {
        byte[] magic = in.readNBytes(MAGIC.length);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new ImageSourceException("not a hupd patch (bad magic)");
        }
        return readVarint(in);
    }

    static void writeVarint(OutputStream out, long v) throws IOException {
        if (v < 0) {
            throw new IllegalArgumentException("negative varint " + v);
        }
        while (v >= 0x80) {
            out.write((int) (v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }

    static long readVarint(InputStream in) throws IOException {
        long v = 0;
        for (int shift = 0; shift < 63; shift += 7) {
            int b = in.read();
            if (b < 0) {
                throw new ImageSourceException("the patch ends in the middle of an instruction");
            }
            v |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new ImageSourceException("the patch has a number longer than 63 bits");
    }

    static long zigzag(long v) {
        return (v << 1) ^ (v >> 63);
    }

    static long unzigzag(long v) {
        return (v >>> 1) ^ -(v & 1);
    }
}
