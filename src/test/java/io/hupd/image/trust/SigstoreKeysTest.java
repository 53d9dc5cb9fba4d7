package io.hupd.image.trust;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.image.authoring.ImageSigning;
import io.hupd.ports.UserInputException;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SigstoreKeysTest {
    private static final byte[] PASS = "pw".getBytes(StandardCharsets.UTF_8);

    /**
     * The encrypted-key container of go-securesystemslib (which cosign and skopeo use), decrypted here: its
     * published test vector (passphrase "supersecret", plaintext "reallyimportant"). Debian's skopeo cannot
     * make sigstore keys, so this is what shows hupd reads the Go tools' scrypt + secretbox the same way.
     */
    @Test
    void decryptsTheGoImplementationsVector() {
        byte[] enc = ("{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":32768,\"r\":8,\"p\":1},\"salt\":"
                + "\"N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g=\"},\"cipher\":{\"name\":\"nacl/secretbox\","
                + "\"nonce\":\"2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik\"},\"ciphertext\":"
                + "\"SEW6sUh0jf2wfdjJGPNS9+bkk2uB+Cxamf32zR8XkQ==\"}").getBytes(StandardCharsets.UTF_8);
        assertArrayEquals("reallyimportant".getBytes(StandardCharsets.UTF_8),
                SigstoreKeys.decryptPrivate(enc, "supersecret".getBytes(StandardCharsets.UTF_8)));
        UserInputException wrong = assertThrows(UserInputException.class,
                () -> SigstoreKeys.decryptPrivate(enc, "supersecreT".getBytes(StandardCharsets.UTF_8)));
        assertTrue(wrong.getMessage().startsWith("wrong passphrase"), wrong.getMessage());
    }

    @Test
    void aGeneratedPairSignsAndVerifiesAndTheFilesHaveSigstoresPemTypes() throws Exception {
        String[] pair = SigstoreKeys.generate(PASS);
        assertTrue(pair[0].startsWith("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n"), pair[0]);
        assertTrue(pair[1].startsWith("-----BEGIN PUBLIC KEY-----\n"), pair[1]);
        PrivateKey k = SigstoreKeys.readPrivate(pair[0], PASS);
        PublicKey pub = SigstoreKeys.readPublic(pair[1], "pub");
        assertEquals(pub, SigstoreKeys.publicOf(k));
        byte[] payload = new SimpleSigning("r/x:1", "sha256:" + "a".repeat(64)).toJson();
        Signature v = Signature.getInstance("SHA256withECDSA");
        v.initVerify(pub);
        v.update(payload);
        assertTrue(v.verify(Base64.getDecoder().decode(ImageSigning.sign(k, payload))));
        assertThrows(UserInputException.class, () -> SigstoreKeys.readPrivate(pair[0], "pW".getBytes()));
        assertThrows(UserInputException.class, () -> SigstoreKeys.readPrivate(pair[1], PASS));
    }

    @Test
    void payloadsWithUnknownCriticalFieldsOrAnotherTypeAreRefused() throws Exception {
        SimpleSigning s = SimpleSigning.parse(new SimpleSigning("h/r:t", "sha256:" + "b".repeat(64)).toJson());
        assertEquals("h/r:t", s.dockerReference());
        assertThrows(SignatureException.class, () -> SimpleSigning.parse(("{\"critical\":{\"identity\":"
                + "{\"docker-reference\":\"h/r:t\"},\"image\":{\"docker-manifest-digest\":\"sha256:" + "b".repeat(64)
                + "\"},\"type\":\"cosign container image signature\",\"extra\":1}}").getBytes()));
        assertThrows(SignatureException.class, () -> SimpleSigning.parse(("{\"critical\":{\"identity\":"
                + "{\"docker-reference\":\"h/r:t\"},\"image\":{\"docker-manifest-digest\":\"sha256:" + "b".repeat(64)
                + "\"},\"type\":\"something else\"}}").getBytes()));
    }

    @Test
    void identityNamesRepositoryAndTag() {
        assertNull(TrustStore.identityProblem("127.0.0.1:5000/hostos:2.1", "127.0.0.1:5000/hostos", "2.1"));
        assertNull(TrustStore.identityProblem("127.0.0.1:5000/hostos:2.1", "127.0.0.1:5000/hostos", null));
        assertTrue(TrustStore.identityProblem("127.0.0.1:5000/other:2.1", "127.0.0.1:5000/hostos", "2.1")
                .contains("not the repository"));
        assertTrue(TrustStore.identityProblem("127.0.0.1:5000/hostos:2.2", "127.0.0.1:5000/hostos", "2.1")
                .contains("not the tag"));
        assertTrue(TrustStore.identityProblem("127.0.0.1:5000/hostos", "127.0.0.1:5000/hostos", "2.1")
                .contains("not the tag"));
        assertEquals("sha256-" + "c".repeat(64) + ".sig", CosignSignatures.tagFor("sha256:" + "c".repeat(64)));
    }
}
