package io.hupd.adapters.linux;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.adapters.bootloader.Bootloaders;
import io.hupd.adapters.sim.DeviceConfig;
import io.hupd.health.HealthPolicy;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code /etc/hupd/device.json}: what a real device is (docs/real-device.md has the schema). Parsed field by
 * field so that every wrong or missing field gets its own one-line error naming it; unknown fields are refused
 * too, since a misspelt optional field would otherwise be silently left at its default.
 */
public record RealDeviceConfig(
        Path file,
        String deviceType,
        String architecture,
        Map<String, PartitionRef> partitions,
        String bootloader,
        Path fwEnvConfig,
        String grubenv,
        int bootLimit,
        String supervisorUnit,
        String systemctl,
        java.time.Duration rebootTimeout,
        Path stateMount,
        Path dataMount,
        Path healthChecks,
        HealthPolicy healthPolicy,
        Path kernelCmdline,
        Path mountInfo) {

    public static final Path DEFAULT = Path.of("/etc/hupd/device.json");
    /** The partitions a device has, in the order they are reported. */
    public static final List<String> ROLES = List.of("boot", "rootA", "rootB", "state", "data");

    /** How a partition is found: by its GPT name or its GPT unique id, never by a node name that can change. */
    public record PartitionRef(String key, String value) {
        @Override
        public String toString() {
            return key.toUpperCase(java.util.Locale.ROOT) + "=" + value;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern UUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
            + "-[0-9a-fA-F]{12}");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Set<String> TOP = Set.of("format", "deviceType", "architecture", "partitions", "bootloader",
            "bootLimit", "supervisor", "systemctl", "rebootTimeout", "mounts", "healthChecks", "health",
            "kernelCmdline", "mountInfo");

    public static RealDeviceConfig load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UserInputException(file + " does not exist: describe the device there (docs/real-device.md)"
                    + " or give --device-config FILE (--device DIR for a simulated device)");
        }
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UserInputException(file + " does not parse as JSON: " + e.getMessage().split("\n")[0]);
        }
        return parse(file, root);
    }

    static RealDeviceConfig parse(Path file, JsonNode root) {
        Fields f = new Fields(file);
        if (root == null || !root.isObject()) {
            throw f.bad("", "the file must hold one JSON object");
        }
        f.onlyKnown("", root, TOP);
        JsonNode format = root.get("format");
        if (format == null || !format.isInt() || format.intValue() != 1) {
            throw f.bad("format", format == null ? "missing (write \"format\": 1)" : format + " is not a format this"
                    + " hupd reads (1)");
        }
        String deviceType = f.name(root, "deviceType");
        String arch = f.name(root, "architecture");

        JsonNode parts = f.object(root, "partitions", true);
        f.onlyKnown("partitions.", parts, Set.copyOf(ROLES));
        Map<String, PartitionRef> refs = new LinkedHashMap<>();
        for (String role : ROLES) {
            refs.put(role, f.partition(parts, role));
        }
        Map<PartitionRef, String> seen = new java.util.HashMap<>();
        for (var e : refs.entrySet()) {
            String before = seen.putIfAbsent(e.getValue(), e.getKey());
            if (before != null) {
                throw f.bad("partitions." + e.getKey(), "names the same partition as partitions." + before
                        + " (" + e.getValue() + ")");
            }
        }

        JsonNode bl = f.object(root, "bootloader", true);
        f.onlyKnown("bootloader.", bl, Set.of("flavour", "fwEnvConfig", "grubenv"));
        String flavour = f.text(bl, "bootloader.", "flavour", true);
        if (!Bootloaders.flavours().contains(flavour)) {
            throw f.bad("bootloader.flavour", "'" + flavour + "' is not one of " + String.join(", ",
                    Bootloaders.flavours()));
        }
        Path fwEnv = null;
        String fwEnvText = f.text(bl, "bootloader.", "fwEnvConfig", flavour.equals("uboot-env"));
        if (fwEnvText != null) {
            if (!flavour.equals("uboot-env")) {
                throw f.bad("bootloader.fwEnvConfig", "applies to the uboot-env flavour only");
            }
            fwEnv = f.absolute("bootloader.fwEnvConfig", fwEnvText);
            if (!Files.isRegularFile(fwEnv)) {
                throw f.bad("bootloader.fwEnvConfig", fwEnv + " does not exist (fw_printenv needs it)");
            }
        }
        String grubenv = f.text(bl, "bootloader.", "grubenv", false);
        if (grubenv != null && !flavour.equals("grub")) {
            throw f.bad("bootloader.grubenv", "applies to the grub flavour only");
        }
        if (flavour.equals("grub")) {
            grubenv = grubenv == null ? "EFI/BOOT/grubenv" : grubenv.replaceFirst("^/+", "");
            if (grubenv.isEmpty() || grubenv.contains("..") || grubenv.contains("\\") || grubenv.contains(":")) {
                throw f.bad("bootloader.grubenv", "'" + grubenv + "' is not a path inside the boot partition");
            }
        }

        int limit = 3;
        JsonNode lim = root.get("bootLimit");
        if (lim != null) {
            if (!lim.isInt() || lim.intValue() < 1 || lim.intValue() > 99) {
                throw f.bad("bootLimit", lim + " is not a number of boots from 1 to 99");
            }
            limit = lim.intValue();
        }

        JsonNode sup = f.object(root, "supervisor", true);
        f.onlyKnown("supervisor.", sup, Set.of("unit"));
        String unit = f.text(sup, "supervisor.", "unit", true);
        if (!unit.matches("[A-Za-z0-9:_.@-]+\\.(service|target)")) {
            throw f.bad("supervisor.unit", "'" + unit + "' is not a systemd unit name (like"
                    + " balena-supervisor.service)");
        }
        String systemctl = f.text(root, "", "systemctl", false);
        if (systemctl == null) {
            systemctl = "systemctl";
        } else if (systemctl.isBlank() || systemctl.contains(" ")) {
            throw f.bad("systemctl", "'" + systemctl + "' is not a command (a program name or an absolute path)");
        }
        java.time.Duration rebootTimeout = f.duration(root, "", "rebootTimeout", "120s");

        JsonNode mounts = f.object(root, "mounts", true);
        f.onlyKnown("mounts.", mounts, Set.of("state", "data"));
        Path state = f.absolute("mounts.state", f.text(mounts, "mounts.", "state", true));
        Path data = f.absolute("mounts.data", f.text(mounts, "mounts.", "data", true));
        if (state.equals(data)) {
            throw f.bad("mounts.data", "is the same folder as mounts.state");
        }

        String checks = f.text(root, "", "healthChecks", false);
        Path healthChecks = checks == null ? null : f.absolute("healthChecks", checks);
        JsonNode health = root.get("health");
        if (health != null && !health.isObject()) {
            throw f.bad("health", "must be an object like {\"settle\": \"60s\", \"interval\": \"60s\", \"count\": 15}");
        }
        if (health == null) {
            health = JSON.createObjectNode();
        }
        f.onlyKnown("health.", health, Set.of("settle", "interval", "count", "checkTimeout"));
        int count = 15;
        JsonNode c = health.get("count");
        if (c != null) {
            if (!c.isInt() || c.intValue() < 1 || c.intValue() > 1000) {
                throw f.bad("health.count", c + " is not a number of rounds from 1 to 1000");
            }
            count = c.intValue();
        }
        java.time.Duration checkTimeout = f.duration(health, "health.", "checkTimeout", "60s");
        if (checkTimeout.isZero()) {
            throw f.bad("health.checkTimeout", "must be longer than 0s: it bounds each health check");
        }
        HealthPolicy policy = new HealthPolicy(f.duration(health, "health.", "settle", "60s"), count,
                f.duration(health, "health.", "interval", "60s"), checkTimeout);

        String cmdline = f.text(root, "", "kernelCmdline", false);
        String mountInfo = f.text(root, "", "mountInfo", false);
        return new RealDeviceConfig(file, deviceType, arch, Map.copyOf(refs), flavour, fwEnv, grubenv, limit, unit,
                systemctl, rebootTimeout, state, data, healthChecks, policy,
                cmdline == null ? Path.of("/proc/cmdline") : f.absolute("kernelCmdline", cmdline),
                mountInfo == null ? Path.of("/proc/self/mountinfo") : f.absolute("mountInfo", mountInfo));
    }

    /** Field readers that fail with the file and the field's path in the message. */
    private record Fields(Path file) {
        UserInputException bad(String field, String why) {
            return new UserInputException(file + (field.isEmpty() ? "" : " " + field) + ": " + why);
        }

        void onlyKnown(String prefix, JsonNode obj, Set<String> known) {
            for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
                String n = it.next();
                if (!known.contains(n)) {
                    throw bad(prefix + n, "unknown field (known here: " + String.join(", ", new java.util.TreeSet<>(
                            known)) + ")");
                }
            }
        }

        JsonNode object(JsonNode parent, String name, boolean required) {
            JsonNode n = parent.get(name);
            if (n == null && required) {
                throw bad(name, "missing");
            }
            if (n != null && !n.isObject()) {
                throw bad(name, "must be a JSON object");
            }
            return n;
        }

        String text(JsonNode parent, String prefix, String name, boolean required) {
            JsonNode n = parent.get(name);
            if (n == null || n.isNull()) {
                if (required) {
                    throw bad(prefix + name, "missing");
                }
                return null;
            }
            if (!n.isTextual() || n.textValue().isBlank()) {
                throw bad(prefix + name, "must be a non-empty string");
            }
            return n.textValue().strip();
        }

        String name(JsonNode parent, String field) {
            String v = text(parent, "", field, true);
            if (!NAME.matcher(v).matches()) {
                throw bad(field, "'" + v + "' is not a name (letters, digits, '.', '_', '-')");
            }
            return v;
        }

        Path absolute(String field, String value) {
            Path p = Path.of(value);
            if (!p.isAbsolute()) {
                throw bad(field, "'" + value + "' is not an absolute path");
            }
            return p.normalize();
        }

        java.time.Duration duration(JsonNode parent, String prefix, String name, String dflt) {
            String v = text(parent, prefix, name, false);
            try {
                return DeviceConfig.duration(v == null ? dflt : v);
            } catch (UserInputException e) {
                throw bad(prefix + name, e.getMessage());
            }
        }

        PartitionRef partition(JsonNode parts, String role) {
            String field = "partitions." + role;
            JsonNode n = parts.get(role);
            if (n == null) {
                throw bad(field, "missing (give {\"partlabel\": \"...\"} or {\"partuuid\": \"...\"})");
            }
            if (n.isTextual()) {
                throw bad(field, "'" + n.textValue() + "' is not allowed: name the partition by"
                        + " {\"partlabel\": \"...\"} or {\"partuuid\": \"...\"}, never by a device node");
            }
            if (!n.isObject() || n.size() != 1) {
                throw bad(field, "must be exactly one of {\"partlabel\": \"...\"} or {\"partuuid\": \"...\"}");
            }
            String key = n.fieldNames().next();
            String value = text(n, field + ".", key, true);
            switch (key) {
                case "partlabel" -> {
                    if (value.length() > 36 || value.chars().anyMatch(ch -> ch < 0x20)) {
                        throw bad(field + ".partlabel", "'" + value + "' is not a GPT partition name (at most 36"
                                + " characters)");
                    }
                }
                case "partuuid" -> {
                    if (!UUID.matcher(value).matches()) {
                        throw bad(field + ".partuuid", "'" + value + "' is not a GPT partition UUID"
                                + " (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
                    }
                    value = value.toLowerCase(java.util.Locale.ROOT);
                }
                default -> throw bad(field + "." + key, "unknown field (known here: partlabel, partuuid)");
            }
            return new PartitionRef(key, value);
        }
    }
}
