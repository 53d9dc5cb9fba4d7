package io.hupd.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;

/**
 * The daemon's own settings, {@code /etc/hupd/hupd.json} (JSON; {@code //} and {@code /* *}{@code /} comments
 * allowed, so that the shipped example can explain itself). Every field is optional:
 * <ul>
 *   <li>{@code socket}: the local API's Unix socket, an absolute path (default {@code /run/hupd/hupd.sock});
 *       a simulated device's daemon always listens in {@code DIR/run/hupd/hupd.sock};</li>
 *   <li>{@code statusPort}: the status page's port on 127.0.0.1 (default 8080; 0 any free port; null: no page);</li>
 *   <li>{@code deviceConfig}: the real device's description, an absolute path (default
 *       {@code /etc/hupd/device.json}).</li>
 * </ul>
 */
record DaemonSettings(Path socket, Integer statusPort, Path deviceConfig) {
    static final Path DEFAULT_FILE = Path.of("/etc/hupd/hupd.json");
    static final DaemonSettings DEFAULTS = new DaemonSettings(DaemonSocket.REAL_DEVICE, 8080,
            Path.of("/etc/hupd/device.json"));
    private static final Set<String> FIELDS = Set.of("socket", "statusPort", "deviceConfig");
    private static final long MAX_BYTES = 64 * 1024;

    /**
     * @param file the file {@code --config} named, or null for the default one, which may be missing (then the
     *     defaults apply); a file that was named must exist
     */
    static DaemonSettings load(Path file) {
        Path f = file == null ? DEFAULT_FILE : file;
        if (!Files.exists(f)) {
            if (file == null) {
                return DEFAULTS;
            }
            throw new UserInputException(f + ": no such settings file");
        }
        JsonNode root;
        try {
            if (Files.size(f) > MAX_BYTES) {
                throw new UserInputException(f + ": larger than " + MAX_BYTES + " bytes: not a settings file");
            }
            root = new ObjectMapper().enable(JsonParser.Feature.ALLOW_COMMENTS).readTree(Files.readAllBytes(f));
        } catch (IOException e) {
            throw new UserInputException(f + ": not valid JSON: " + Main.oneLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new UserInputException(f + ": expected a JSON object of settings");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!FIELDS.contains(name)) {
                throw new UserInputException(f + ": unknown setting '" + name
                        + "' (known: socket, statusPort, deviceConfig)");
            }
        }
        Path socket = absolutePath(f, root, "socket", DEFAULTS.socket());
        Integer port = DEFAULTS.statusPort();
        if (root.has("statusPort")) {
            JsonNode p = root.get("statusPort");
            if (p.isNull()) {
                port = null;
            } else if (p.isInt() && p.intValue() >= 0 && p.intValue() <= 65535) {
                port = p.intValue();
            } else {
                throw new UserInputException(f + ": statusPort must be a port number 0-65535 or null, not " + p);
            }
        }
        return new DaemonSettings(socket, port, absolutePath(f, root, "deviceConfig", DEFAULTS.deviceConfig()));
    }

    private static Path absolutePath(Path f, JsonNode root, String name, Path fallback) {
        if (!root.has(name)) {
            return fallback;
        }
        JsonNode v = root.get(name);
        if (!v.isTextual() || !v.textValue().startsWith("/")) {
            throw new UserInputException(f + ": " + name + " must be an absolute path, not " + v);
        }
        return Path.of(v.textValue());
    }
}
