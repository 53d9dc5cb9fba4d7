package io.hupd.testkit;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Random;

/** What a bad sector or a bad write does to a file, seeded so that a failing case can be run again. */
public final class FileDamage {
    private FileDamage() {}

    /** Flips {@code bits} bits at random places of the file. */
    public static void flipBits(Path file, long seed, int bits) throws IOException {
        Random r = new Random(seed);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            for (int i = 0; i < bits; i++) {
                long at = (long) (r.nextDouble() * f.length());
                f.seek(at);
                int b = f.read();
                f.seek(at);
                f.write(b ^ (1 << r.nextInt(8)));
            }
        }
    }

    /** Cuts the file to {@code length} bytes. */
    public static void truncate(Path file, long length) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(length);
        }
    }
}
