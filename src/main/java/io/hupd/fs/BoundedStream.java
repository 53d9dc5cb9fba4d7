package io.hupd.fs;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** The first {@code left} bytes of a stream (a range of a blob, a ranged response body); closing it closes the stream. */
public final class BoundedStream extends FilterInputStream {
    private long left;

    public BoundedStream(InputStream in, long left) {
        super(in);
        this.left = left;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (left <= 0) {
            return -1;
        }
        int r = in.read(b, off, (int) Math.min(len, left));
        if (r > 0) {
            left -= r;
        }
        return r;
    }
}
