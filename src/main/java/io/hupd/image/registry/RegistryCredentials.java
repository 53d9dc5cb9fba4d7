package io.hupd.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Registry logins from a file in the shape of Docker's {@code config.json}, so an existing one can be used as is:
 * <pre>{"auths": {"registry.example.com": {"auth": "base64(user:password)"},
 *            "127.0.0.1:5000": {"username": "u", "password": "p"}}}</pre>
 * Keys may carry a scheme and a path ({@code https://index.docker.io/v1/}); only host and port count.
 */
public final class RegistryCredentials {
    public static final RegistryCredentials NONE = new RegistryCredentials(Map.of());
    private static final int MAX_FILE_BYTES = 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A login; {@link #toString} hides the password so it never reaches a log. */
    public record Login(String username, String password) {
        @Override
        public String toString() {
            return "Login[" + username + "]";
        }

        String basicHeader() {
            return "Basic " + Base64.getEncoder().encodeToString(
                    (username + ":" + password).getBytes(StandardCharsets.UTF_8));
        }
    }

    private final Map<String, Login> byRegistry;

    private RegistryCredentials(Map<String, Login> byRegistry) {
        this.byRegistry = Map.copyOf(byRegistry);
    }

    public static RegistryCredentials of(Map<String, Login> byRegistry) {
        Map<String, Login> m = new HashMap<>();
        byRegistry.forEach((k, v) -> m.put(normalize(k), v));
        return new RegistryCredentials(m);
    }

    /** @throws UserInputException naming the file and what is wrong with it */
    public static RegistryCredentials load(Path file) {
        byte[] content;
        try (InputStream in = Files.newInputStream(file)) {
            content = in.readNBytes(MAX_FILE_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new UserInputException("registry credentials file " + file + " does not exist");
        } catch (IOException e) {
            throw new UserInputException("registry credentials file " + file + " cannot be read: " + e.getMessage());
        }
        if (content.length > MAX_FILE_BYTES) {
            throw new UserInputException("registry credentials file " + file + " is larger than 1 MiB");
        }
        JsonNode root;
        try {
            root = JSON.readTree(content);
        } catch (IOException e) {
            throw new UserInputException("registry credentials file " + file + " is not valid JSON"
                    + " (expected {\"auths\": {\"HOST[:PORT]\": {\"auth\": \"base64(user:password)\"}}})");
        }
        JsonNode auths = root == null ? null : root.get("auths");
        if (auths == null || !auths.isObject()) {
            throw new UserInputException("registry credentials file " + file + " has no \"auths\" object"
                    + " (expected {\"auths\": {\"HOST[:PORT]\": {\"auth\": \"base64(user:password)\"}}})");
        }
        Map<String, Login> logins = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = auths.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Login login = parseEntry(e.getValue());
            if (login == null) {
                throw new UserInputException("registry credentials file " + file + ": the entry for '" + e.getKey()
                        + "' has neither \"auth\" (base64 of user:password) nor \"username\" and \"password\"");
            }
            logins.put(normalize(e.getKey()), login);
        }
        return new RegistryCredentials(logins);
    }

    private static Login parseEntry(JsonNode entry) {
        if (entry == null || !entry.isObject()) {
            return null;
        }
        JsonNode auth = entry.get("auth");
        if (auth != null && auth.isTextual() && !auth.textValue().isEmpty()) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(auth.textValue().strip()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return null;
            }
            int colon = decoded.indexOf(':');
            return colon <= 0 ? null : new Login(decoded.substring(0, colon), decoded.substring(colon + 1));
        }
        JsonNode user = entry.get("username");
        JsonNode password = entry.get("password");
        if (user != null && user.isTextual() && password != null && password.isTextual()) {
            return new Login(user.textValue(), password.textValue());
        }
        return null;
    }

    static String normalize(String key) {
        String k = key.strip().toLowerCase(Locale.ROOT);
        int scheme = k.indexOf("://");
        if (scheme >= 0) {
            k = k.substring(scheme + 3);
        }
        int slash = k.indexOf('/');
        if (slash >= 0) {
            k = k.substring(0, slash);
        }
        // Docker Hub is stored under several names; they are one registry.
        if (k.equals("index.docker.io") || k.equals("registry-1.docker.io")) {
            k = "docker.io";
        }
        return k;
    }

    /** The login for {@code HOST[:PORT]} as written in the image reference. */
    public Optional<Login> forRegistry(String registry) {
        return Optional.ofNullable(byRegistry.get(normalize(registry)));
    }

    public boolean isEmpty() {
        return byRegistry.isEmpty();
    }
}
