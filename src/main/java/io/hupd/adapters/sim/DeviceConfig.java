package io.hupd.adapters.sim;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.hupd.health.HealthPolicy;
import io.hupd.ports.BootFilePolicy;
import io.hupd.ports.UserInputException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
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
        Integer bootLimit,
        BootFiles bootFiles /* null: balena's lists */,
        Boolean stagingFolder /* null or false: mke2fs reads the layer itself when it can */) {

    /** The device.json of devices made before the bootFiles section existed (and of callers that leave it out). */
    public DeviceConfig(int format, String deviceType, String architecture, String bootloader, long rootSizeBytes,
            long bootSizeBytes, String vpn, String healthSettle, String healthInterval, int healthCount,
            String healthCheckTimeout, Integer bootLimit) {
        this(format, deviceType, architecture, bootloader, rootSizeBytes, bootSizeBytes, vpn, healthSettle,
                healthInterval, healthCount, healthCheckTimeout, bootLimit, null, null);
    }

    /**
     * The {@code bootFiles} section: which boot-partition files an update leaves alone on this device type
     * (balena's device layers append to its list the same way). A list that is given replaces balena's list of
     * that name, so an entry can be dropped as well as added; a list left out keeps balena's. Paths are relative
     * to the boot partition ({@code overlays/x.dtbo}); a leading '/' as in balena's list is accepted.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record BootFiles(List<String> keepBack, List<String> copyIfMissing) {}

    /**
     * This device's boot-file policy. {@code config.json} stays kept back whatever the list says: it holds the
     * device's identity and API key, and an update that replaced it would unprovision the device. Files copied
     * only when missing are never overwritten either, so they count as kept back. The bootloader's own files
     * cannot be listed: only the bootloader adapter writes them.
     */
    public BootFilePolicy bootFilePolicy() {
        if (bootFiles == null) {
            return BootFilePolicy.BALENA;
        }
        BootFilePolicy balena = BootFilePolicy.BALENA;
        Set<String> copyIfMissing = bootFiles.copyIfMissing() == null ? balena.copyIfMissing()
                : paths("copyIfMissing", bootFiles.copyIfMissing());
        Set<String> keepBack = new TreeSet<>(bootFiles.keepBack() == null ? balena.keepBack()
                : paths("keepBack", bootFiles.keepBack()));
        keepBack.add("config.json");
        keepBack.addAll(copyIfMissing);
        return new BootFilePolicy(Set.copyOf(keepBack), Set.copyOf(copyIfMissing), balena.bootloaderOwned());
    }

    private static Set<String> paths(String list, List<String> raw) {
        Set<String> out = new TreeSet<>();
        for (String entry : raw) {
            String p = entry == null ? "" : entry.strip();
            while (p.startsWith("/")) {
                p = p.substring(1);
            }
            boolean bad = p.isEmpty() || p.contains("\\") || p.endsWith("/");
            for (String part : p.split("/", -1)) {
                bad |= part.isEmpty() || part.equals(".") || part.equals("..");
            }
            if (bad) {
                throw new UserInputException("device.json bootFiles." + list + ": '" + entry + "' is not a path"
                        + " inside the boot partition (write it like config.txt or overlays/x.dtbo)");
            }
            if (BootFilePolicy.BALENA.bootloaderOwned().contains(p)) {
                throw new UserInputException("device.json bootFiles." + list + ": " + p + " is the bootloader's"
                        + " own settings file; updates never copy it, so it cannot be listed");
            }
            out.add(p);
        }
        return out;
    }

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m)");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,12})([KMG]?)");

    public DeviceConfig withBootFiles(BootFiles files) {
        return new DeviceConfig(format, deviceType, architecture, bootloader, rootSizeBytes, bootSizeBytes, vpn,
                healthSettle, healthInterval, healthCount, healthCheckTimeout, bootLimit, files, stagingFolder);
    }

    public DeviceConfig withHealthCheckTimeout(String timeout) {
        return new DeviceConfig(format, deviceType, architecture, bootloader, rootSizeBytes, bootSizeBytes, vpn,
                healthSettle, healthInterval, healthCount, timeout, bootLimit, bootFiles, stagingFolder);
    }

    public DeviceConfig withHealthCount(int count) {
        return new DeviceConfig(format, deviceType, architecture, bootloader, rootSizeBytes, bootSizeBytes, vpn,
                healthSettle, healthInterval, count, healthCheckTimeout, bootLimit, bootFiles, stagingFolder);
    }

    /**
     * {@code "stagingFolder": true} makes every update flatten the image into a folder in the data partition and
     * fill the root from it, as devices whose e2fsprogs predate 1.47.1 must; the tests use it to keep that path
     * covered on machines that have a newer mke2fs.
     */
    public DeviceConfig withStagingFolder(boolean always) {
        return new DeviceConfig(format, deviceType, architecture, bootloader, rootSizeBytes, bootSizeBytes, vpn,
                healthSettle, healthInterval, healthCount, healthCheckTimeout, bootLimit, bootFiles, always);
    }

    /** True when this device always stages the root filesystem in a folder; see {@link #withStagingFolder}. */
    public boolean stagesInFolder() {
        return Boolean.TRUE.equals(stagingFolder);
    }

    /** Writes this as {@code dir/device.json} (atomically), for editing an existing simulated device. */
    public void save(java.nio.file.Path dir) throws java.io.IOException {
        io.hupd.fs.AtomicFiles.write(dir.resolve("device.json"), SimDevice.JSON.writeValueAsBytes(this));
    }

    /** @throws UserInputException naming the field of device.json that HealthPolicy refuses */
    public HealthPolicy healthPolicy() {
        Duration timeout = duration(healthCheckTimeout);
        if (timeout.isZero()) {
            throw new UserInputException("device.json: healthCheckTimeout must be longer than 0s (it bounds each"
                    + " health check), not '" + healthCheckTimeout + "'");
        }
        if (healthCount < 1) {
            throw new UserInputException("device.json: healthCount must be at least 1, not " + healthCount);
        }
        try {
            return new HealthPolicy(duration(healthSettle), healthCount, duration(healthInterval), timeout);
        } catch (IllegalArgumentException e) {
            throw new UserInputException("device.json: " + e.getMessage());
        }
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
