package io.hupd.image.delta;

import io.hupd.image.oci.ImageSourceException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.tukaani.xz.XZInputStream;

/**
 * The target, read as a stream while the patch is applied to the source: the device never holds more than the
 * xz decoder's dictionary and a copy buffer in memory, and whoever reads (the blob store) hashes the bytes as
 * they come. A patch that is corrupt (xz checks its CRC), copies from outside the source, or makes more or fewer
 * bytes than it declared throws {@link ImageSourceException}.
 */
public final class PatchInputStream extends InputStream {
    private final InputStream patch;
    private final FileChannel source;
    private final long declared;
    private long produced;
    private long lastCopyEnd;
    private int op = -1;
    private long opLeft;
    private long copyAt;
    private boolean ended;

    /**
     * @param patch the patch blob (xz); closed with this stream
     * @param source the uncompressed source layer; the caller closes it
     */
    public PatchInputStream(InputStream patch, FileChannel source) throws IOException {
        this.patch = new XZInputStream(new BufferedInputStream(patch, 1 << 16));
        this.source = source;
        this.declared = PatchFormat.readHeader(this.patch);
    }

    /** The size of the target, as the patch declares it (checked at the end). */
    public long declaredSize() {
        return declared;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (opLeft == 0) {
            if (ended) {
                return -1;
            }
            nextInstruction();
        }
        int n = (int) Math.min(len, opLeft);
        if (op == PatchFormat.ADD) {
            n = patch.read(b, off, n);
            if (n < 0) {
                throw new ImageSourceException("the patch ends in the middle of new bytes");
            }
        } else {
            ByteBuffer dst = ByteBuffer.wrap(b, off, n);
            while (dst.hasRemaining()) {
                int r = source.read(dst, copyAt + (n - dst.remaining()));
                if (r < 0) {
                    throw new ImageSourceException("the source layer ended while the patch copied from it");
                }
            }
            copyAt += n;
        }
        opLeft -= n;
        produced += n;
        return n;
    }

    private void nextInstruction() throws IOException {
        int code = patch.read();
        switch (code) {
            case PatchFormat.END -> {
                if (produced != declared) {
                    throw new ImageSourceException("the patch made " + produced + " bytes, it declares " + declared);
                }
                if (patch.read() >= 0) {
                    throw new ImageSourceException("the patch has bytes after its end");
                }
                ended = true;
            }
            case PatchFormat.ADD -> {
                op = code;
                opLeft = checkedLength();
            }
            case PatchFormat.COPY -> {
                op = code;
                opLeft = checkedLength();
                long from = lastCopyEnd + PatchFormat.unzigzag(PatchFormat.readVarint(patch));
                if (from < 0 || from + opLeft > source.size()) {
                    throw new ImageSourceException("the patch copies bytes " + from + ".." + (from + opLeft)
                            + " of a source of " + source.size() + ": it was made from another source");
                }
                copyAt = from;
                lastCopyEnd = from + opLeft;
            }
            case -1 -> throw new ImageSourceException("the patch ends without its end mark");
            default -> throw new ImageSourceException("the patch has an unknown instruction " + code);
        }
    }

    private long checkedLength() throws IOException {
        long n = PatchFormat.readVarint(patch);
        if (n > declared - produced) {
            throw new ImageSourceException("the patch makes more bytes than the " + declared + " it declares");
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        patch.close();
    }
}
