package io.hupd.image.oci;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** sha256 digests in the OCI string form. Only sha256 is accepted: it is what every registry and tool uses. */
public final class Digests {
    public static final String PREFIX = "sha256:";
    private static final Pattern SHA256 = Pattern.compile("sha256:[0-9a-f]{64}");

    private Digests() {}

    public static boolean isSha256(String digest) {
        return digest != null && SHA256.matcher(digest).matches();
    }

    public static void requireSha256(String digest) {
        if (!isSha256(digest)) {
            throw new IllegalArgumentException("bad digest '" + Text.quote(digest)
                    + "' (expected sha256: and 64 lowercase hex digits)");
        }
    }

    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    public static String toDigest(MessageDigest md) {
        return PREFIX + HexFormat.of().formatHex(md.digest());
    }

    public static String of(byte[] content) {
        MessageDigest md = newSha256();
        md.update(content);
        return toDigest(md);
    }
}
