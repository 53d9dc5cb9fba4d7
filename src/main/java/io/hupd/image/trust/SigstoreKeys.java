package io.hupd.image.trust;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hupd.ports.UserInputException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.engines.XSalsa20Engine;
import org.bouncycastle.crypto.generators.SCrypt;
import org.bouncycastle.crypto.macs.Poly1305;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;

/**
 * Sigstore's key files: a PKIX {@code PUBLIC KEY} PEM, and an encrypted private key PEM whose body is JSON
 * naming scrypt as the KDF and NaCl secretbox as the cipher around a PKCS#8 ECDSA P-256 key (what
 * {@code cosign generate-key-pair} and {@code skopeo generate-sigstore-key} write, and what
 * {@code skopeo copy --sign-by-sigstore-private-key} reads). Only signing needs the private key; a device only
 * ever reads public keys, with the JDK alone.
 */
public final class SigstoreKeys {
    /** The PEM type cosign 1.x and the skopeo in Debian bookworm read; newer tools read both. */
    static final String PRIVATE_TYPE = "ENCRYPTED COSIGN PRIVATE KEY";
    static final String PRIVATE_TYPE_NEW = "ENCRYPTED SIGSTORE PRIVATE KEY";
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)-----END \\1-----");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SCRYPT_N = 32768;
    private static final int SCRYPT_R = 8;
    private static final int SCRYPT_P = 1;
    /** The largest scrypt cost accepted from a key file: more would take minutes or gigabytes to open. */
    private static final int MAX_SCRYPT_N = 1 << 20;

    private SigstoreKeys() {}

    /** A fresh key pair as the two files' contents: the encrypted private key, then the public key. */
    public static String[] generate(byte[] passphrase) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair pair = g.generateKeyPair();
            return new String[] {encryptPrivate(pair.getPrivate().getEncoded(), passphrase),
                    pem("PUBLIC KEY", pair.getPublic().getEncoded())};
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot make P-256 keys", e);
        }
    }

    static String encryptPrivate(byte[] pkcs8, byte[] passphrase) {
        SecureRandom random = new SecureRandom();
        byte[] salt = new byte[32];
        byte[] nonce = new byte[24];
        random.nextBytes(salt);
        random.nextBytes(nonce);
        byte[] key = SCrypt.generate(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, 32);
        byte[] box = secretboxSeal(key, nonce, pkcs8);
        ObjectNode doc = JSON.createObjectNode();
        ObjectNode kdf = doc.putObject("kdf");
        kdf.put("name", "scrypt");
        kdf.putObject("params").put("N", SCRYPT_N).put("r", SCRYPT_R).put("p", SCRYPT_P);
        kdf.put("salt", Base64.getEncoder().encodeToString(salt));
        doc.putObject("cipher").put("name", "nacl/secretbox").put("nonce", Base64.getEncoder().encodeToString(nonce));
        doc.put("ciphertext", Base64.getEncoder().encodeToString(box));
        return pem(PRIVATE_TYPE, doc.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Opens an encrypted private key file's contents.
     *
     * @throws UserInputException when it is not such a key, or the passphrase is wrong
     */
    public static PrivateKey readPrivate(String pemText, byte[] passphrase) {
        Matcher m = PEM.matcher(pemText);
        if (!m.find() || !(m.group(1).equals(PRIVATE_TYPE) || m.group(1).equals(PRIVATE_TYPE_NEW))) {
            throw new UserInputException("the key is not a sigstore private key (a PEM block '" + PRIVATE_TYPE
                    + "' or '" + PRIVATE_TYPE_NEW + "')");
        }
        byte[] pkcs8 = decryptPrivate(Base64.getMimeDecoder().decode(m.group(2)), passphrase);
        try {
            return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException e) {
            throw new UserInputException("the private key is not an ECDSA key: " + e.getMessage());
        }
    }

    static byte[] decryptPrivate(byte[] json, byte[] passphrase) {
        JsonNode doc;
        try {
            doc = JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new UserInputException("the private key's body is not JSON");
        }
        JsonNode params = doc.path("kdf").path("params");
        int n = params.path("N").asInt(-1);
        int r = params.path("r").asInt(-1);
        int p = params.path("p").asInt(-1);
        if (!"scrypt".equals(doc.path("kdf").path("name").asText()) || !"nacl/secretbox".equals(
                doc.path("cipher").path("name").asText())) {
            throw new UserInputException("the private key is encrypted in a way hupd does not know (it reads"
                    + " scrypt with nacl/secretbox)");
        }
        if (n < 2 || n > MAX_SCRYPT_N || Integer.bitCount(n) != 1 || r < 1 || r > 32 || p < 1 || p > 16) {
            throw new UserInputException("the private key's scrypt parameters are out of range (N=" + n + ", r="
                    + r + ", p=" + p + ")");
        }
        byte[] salt;
        byte[] nonce;
        byte[] box;
        try {
            salt = Base64.getDecoder().decode(doc.path("kdf").path("salt").asText());
            nonce = Base64.getDecoder().decode(doc.path("cipher").path("nonce").asText());
            box = Base64.getDecoder().decode(doc.path("ciphertext").asText());
        } catch (IllegalArgumentException e) {
            throw new UserInputException("the private key has a field that is not base64");
        }
        if (nonce.length != 24 || box.length < 16) {
            throw new UserInputException("the private key's nonce or ciphertext is malformed");
        }
        byte[] key = SCrypt.generate(passphrase, salt, n, r, p, 32);
        byte[] plain = secretboxOpen(key, nonce, box);
        if (plain == null) {
            throw new UserInputException("wrong passphrase for the private key (or the key file is damaged)");
        }
        return plain;
    }

    /** A public key from a {@code PUBLIC KEY} PEM (PKIX), ECDSA P-256 only. */
    public static PublicKey readPublic(String pemText, String what) {
        Matcher m = PEM.matcher(pemText);
        if (!m.find() || !m.group(1).equals("PUBLIC KEY")) {
            throw new UserInputException(what + " is not a PEM 'PUBLIC KEY'");
        }
        try {
            PublicKey k = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(
                    Base64.getMimeDecoder().decode(m.group(2))));
            if (!(k instanceof java.security.interfaces.ECPublicKey ec)
                    || ec.getParams().getCurve().getField().getFieldSize() != 256) {
                throw new UserInputException(what + " is not an ECDSA P-256 key");
            }
            return k;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new UserInputException(what + " is not an ECDSA public key: " + e.getMessage());
        }
    }

    /** A key's name in logs and in the revocation list: sha256 of its PKIX encoding. */
    public static String fingerprint(PublicKey key) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static PublicKey publicOf(PrivateKey key) {
        try {
            var ec = (java.security.interfaces.ECPrivateKey) key;
            var spec = ec.getParams();
            // Q = d·G, computed with BouncyCastle's curve arithmetic (the JDK has no public API for it).
            var curve = org.bouncycastle.asn1.x9.ECNamedCurveTable.getByName("secp256r1");
            var q = curve.getG().multiply(ec.getS()).normalize();
            var point = new java.security.spec.ECPoint(q.getAffineXCoord().toBigInteger(),
                    q.getAffineYCoord().toBigInteger());
            return KeyFactory.getInstance("EC").generatePublic(new java.security.spec.ECPublicKeySpec(point, spec));
        } catch (GeneralSecurityException | ClassCastException e) {
            throw new UserInputException("the private key is not an ECDSA P-256 key");
        }
    }

    static String pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    /** NaCl secretbox: XSalsa20's first 32 key-stream bytes key Poly1305; the box is tag then ciphertext. */
    static byte[] secretboxSeal(byte[] key, byte[] nonce, byte[] plain) {
        XSalsa20Engine x = new XSalsa20Engine();
        x.init(true, new ParametersWithIV(new KeyParameter(key), nonce));
        byte[] macKey = new byte[32];
        x.processBytes(new byte[32], 0, 32, macKey, 0);
        byte[] out = new byte[16 + plain.length];
        x.processBytes(plain, 0, plain.length, out, 16);
        Poly1305 mac = new Poly1305();
        mac.init(new KeyParameter(macKey));
        mac.update(out, 16, plain.length);
        mac.doFinal(out, 0);
        return out;
    }

    static byte[] secretboxOpen(byte[] key, byte[] nonce, byte[] box) {
        XSalsa20Engine x = new XSalsa20Engine();
        x.init(false, new ParametersWithIV(new KeyParameter(key), nonce));
        byte[] macKey = new byte[32];
        x.processBytes(new byte[32], 0, 32, macKey, 0);
        Poly1305 mac = new Poly1305();
        mac.init(new KeyParameter(macKey));
        mac.update(box, 16, box.length - 16);
        byte[] tag = new byte[16];
        mac.doFinal(tag, 0);
        if (!MessageDigest.isEqual(tag, java.util.Arrays.copyOf(box, 16))) {
            return null;
        }
        byte[] plain = new byte[box.length - 16];
        x.processBytes(box, 16, plain.length, plain, 0);
        return plain;
    }
}
