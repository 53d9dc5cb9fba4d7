package io.hupd.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * The secret the status page asks for. It lives in the device's data partition with mode 0600, so that only
 * who may read hupd's own files (root on a device) can open the page, even though any local user can reach
 * the loopback port.
 */
public final class ServeToken {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final int BYTES = 32;

    private ServeToken() {}

    /** The token in {@code file}, made first when there is none (or it is not one of ours). */
    public static String ensure(Path file) throws IOException {
        if (Files.isRegularFile(file)) {
            String t = io.hupd.fs.BoundedFiles.readString(file, io.hupd.fs.BoundedFiles.SMALL).strip();
            if (t.matches("[0-9a-f]{" + BYTES * 2 + "}")) {
                Files.setPosixFilePermissions(file, OWNER_ONLY);
                return t;
            }
        }
        byte[] b = new byte[BYTES];
        new SecureRandom().nextBytes(b);
        String token = HexFormat.of().formatHex(b);
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        // Created 0600 from the start: a chmod after writing would leave a moment in which others could read it.
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        Files.writeString(tmp, token + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return token;
    }

    /** Constant-time, so that response timing does not reveal how much of a guess was right. */
    public static boolean matches(String expected, String given) {
        if (given == null) {
            return false;
        }
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }
}
