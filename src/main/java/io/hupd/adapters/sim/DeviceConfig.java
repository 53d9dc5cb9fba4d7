package io.hupd.adapters.sim;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.hupd.health.HealthPolicy;
import io.hupd.ports.UserInputException;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code DIR/device.json}: what a simulated device is. Durations are written as people write them ("60s",
 * "500ms", "2m") so that the file can be edited by hand.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record DeviceConfig(
        int format,
        String deviceType,
        String architecture,
        String bootloader,
        long rootSizeBytes,
        long bootSizeBytes,
        String vpn,
        String healthSettle,
        String healthInterval,
        int healthCount,
        String healthCheckTimeout,
        Integer bootLimit) {

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m)");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,12})([KMG]?)");

    public HealthPolicy healthPolicy() {
        return new HealthPolicy(duration(healthSettle), healthCount, duration(healthInterval),
                duration(healthCheckTimeout));
    }

    public boolean vpnOnline() {
        return "online".equals(vpn);
    }

    public static Duration duration(String s) {
        Matcher m = DURATION.matcher(s == null ? "" : s.strip());
        if (!m.matches()) {
            throw new UserInputException("'" + s + "' is not a duration: write it like 500ms, 60s or 2m");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            default -> Duration.ofMinutes(n);
        };
    }

    public static long size(String s) {
        Matcher m = SIZE.matcher(s == null ? "" : s.strip().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new UserInputException("'" + s + "' is not a size: write it like 256M, 40M or 1G");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "K" -> n << 10;
            case "M" -> n << 20;
            case "G" -> n << 30;
            default -> n;
        };
    }
}
