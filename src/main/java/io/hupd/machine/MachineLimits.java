package io.hupd.machine;

/**
 * @param attemptLimit how many times an update before its commit point may run (the first run included) before
 *     recovery reverts it instead of resuming it
 * @param loopCeiling persisted transitions of one update after which it is stopped as a loop (Mender uses 28)
 */
public record MachineLimits(int attemptLimit, int loopCeiling) {
    public static final MachineLimits DEFAULT = new MachineLimits(3, 30);

    public MachineLimits {
        if (attemptLimit < 1 || loopCeiling < 10) {
            throw new IllegalArgumentException("attempt limit must be >= 1 and loop ceiling >= 10");
        }
    }
}
