package io.hupd.steps;

/** balena's dry-run rule for the boot partition, checked before its files are staged and again when written. */
final class BootPartitionSpace {
    /** What must stay free on the boot partition after the update. */
    static final long MINIMUM_FREE_AFTER = 512 * 1024;

    private BootPartitionSpace() {}

    /** @return why {@code needed} more bytes do not fit in {@code free}, or null when they do */
    static String problem(long needed, long free) {
        if (free - needed >= MINIMUM_FREE_AFTER) {
            return null;
        }
        return "not enough space on the boot partition: the new boot files need " + needed + " more bytes, "
                + free + " are free, and " + MINIMUM_FREE_AFTER + " must stay free";
    }
}
