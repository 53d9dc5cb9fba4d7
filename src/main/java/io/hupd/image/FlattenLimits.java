package io.hupd.image;

/**
 * Ceilings for flattening untrusted layers, so that a hostile image ends with a clear error instead of
 * exhausting memory, inodes or disk.
 *
 * @param maxEntries tar entries over all layers (whiteouts included)
 * @param maxTotalBytes bytes of regular-file content over all layers
 * @param maxPathLength bytes of one entry's path inside the root (Linux PATH_MAX is 4096)
 */
public record FlattenLimits(long maxEntries, long maxTotalBytes, int maxPathLength) {
    public static final FlattenLimits DEFAULT = new FlattenLimits(1_000_000, 64L * 1024 * 1024 * 1024, 4096);

    public FlattenLimits {
        if (maxEntries < 1 || maxTotalBytes < 0 || maxPathLength < 1) {
            throw new IllegalArgumentException("flatten limits must be positive: " + maxEntries + ", "
                    + maxTotalBytes + ", " + maxPathLength);
        }
    }
}
