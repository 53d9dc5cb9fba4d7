package io.hupd.image.registry;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** The first {@code left} bytes of a response body; closing it closes the body. */
final class RangeBody extends FilterInputStream {
    private long left;

    RangeBody(InputStream in, long left) {
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
