package io.hupd.steps;

/** Sizes as the steps' messages give them. */
final class Sizes {
    private Sizes() {}

    /** Whole MiB, rounded up (a message never says 0 MiB for something that does not fit). */
    static long mib(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }
}
