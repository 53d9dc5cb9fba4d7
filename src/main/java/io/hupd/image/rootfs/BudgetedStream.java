package io.hupd.image.rootfs;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Lets the caller cap how far the tar reader may read before it next gets control back.
 *
 * <p>The tar reader reads a PAX record or a GNU long name whole before it returns the entry; without a cap a
 * hostile header of gigabytes would be read into memory before any rule could refuse it.
 */
final class BudgetedStream extends FilterInputStream {
    long position;
    boolean atEnd;
    private long limit = Long.MAX_VALUE;
    private String overrun = "";

    /** Raised when the archive reader wants more bytes than the budget allows. */
    static final class BudgetExceeded extends IOException {
        BudgetExceeded(String message) {
            super(message);
        }
    }

    BudgetedStream(InputStream in) {
        super(in);
    }

    void allow(long bytesFromHere, String whyIfOverrun) {
        limit = bytesFromHere > Long.MAX_VALUE - position ? Long.MAX_VALUE : position + bytesFromHere;
        overrun = whyIfOverrun;
    }

    private void charge(long n) throws BudgetExceeded {
        if (n > 0) {
            position += n;
            if (position > limit) {
                throw new BudgetExceeded(overrun);
            }
        }
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            charge(1);
        } else {
            atEnd = true;
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n < 0) {
            atEnd = true;
        }
        charge(n);
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long skipped = super.skip(n);
        charge(skipped);
        return skipped;
    }
}
