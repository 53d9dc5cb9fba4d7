package io.hupd.image.delta;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** sha256 digests in the OCI form ({@code sha256:<hex>}). */
public final class Hashing {
    private Hashing() {}

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    public static String sha256(byte[] content) {
        return digest(sha256().digest(content));
    }

    public static String digest(byte[] hash) {
        return "sha256:" + HexFormat.of().formatHex(hash);
    }
}
