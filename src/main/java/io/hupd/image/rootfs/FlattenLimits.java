package io.hupd.image.rootfs;

/**
 * Ceilings for flattening untrusted layers, so that a hostile image ends with a clear error instead of
 * exhausting memory, inodes or disk.
 *
 * @param maxEntries tar entries over all layers (whiteouts included)
 * @param maxTotalBytes bytes of regular-file content over all layers
 * @param maxPathLength bytes of one entry's path inside the root (Linux PATH_MAX is 4096)
 */
public record FlattenLimits(long maxEntries, long maxTotalBytes, int maxPathLength) {
    /**
     * The entry limit is what hupd's 64 MiB heap holds: the flattener keeps a few hundred bytes per entry (its
     * path, in the sets that detect duplicates and in the survey's record of the tree), and at 200,000 entries a
     * survey spent most of its time collecting garbage (11.5 s against 4.1 s at 150,000; 300,000 ran out of
     * memory). An OS root of an embedded device has tens of thousands of entries; 150,000 leaves room for a large
     * one, and a hostile layer of a million empty files is refused in seconds instead. EntryLimitIT holds this.
     */
    public static final FlattenLimits DEFAULT = new FlattenLimits(150_000, 64L * 1024 * 1024 * 1024, 4096);

    public FlattenLimits {
        if (maxEntries < 1 || maxTotalBytes < 0 || maxPathLength < 1) {
            throw new IllegalArgumentException("flatten limits must be positive: " + maxEntries + ", "
                    + maxTotalBytes + ", " + maxPathLength);
        }
    }
}
