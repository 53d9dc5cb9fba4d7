package io.hupd.health;

import java.time.Duration;
import java.util.Objects;

/**
 * When and how often rollback-health judges a new OS: wait {@code settle}, then up to {@code count} tries
 * {@code interval} apart; {@code checkTimeout} bounds each single check, so a hung check fails instead of stalling
 * the verdict (balena's defaults are 60 s, 15 tries, 60 s).
 */
public record HealthPolicy(Duration settle, int count, Duration interval, Duration checkTimeout) {
    public HealthPolicy {
        Objects.requireNonNull(settle, "settle");
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(checkTimeout, "checkTimeout");
        if (settle.isNegative() || interval.isNegative()) {
            throw new IllegalArgumentException("health settle and interval must not be negative");
        }
        if (count < 1) {
            throw new IllegalArgumentException("health count must be at least 1: " + count);
        }
        if (checkTimeout.isNegative() || checkTimeout.isZero()) {
            throw new IllegalArgumentException("health check timeout must be positive: " + checkTimeout);
        }
    }

    /** balena's rollback-health timing; the per-check limit is hupd's own, balena has none. */
    public static HealthPolicy balenaDefaults() {
        return new HealthPolicy(Duration.ofSeconds(60), 15, Duration.ofSeconds(60), Duration.ofSeconds(30));
    }
}
