package io.hupd.image.trust;

import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * A device's trust store (docs/trust.md): a folder with {@code keys/*.pub} (the public keys whose signatures
 * let an image in; several, for rotation), {@code revoked} (key fingerprints, one a line, refused even when
 * listed in keys/), {@code policy} ({@code require}, {@code warn} or {@code off}; {@code require} when left out
 * and a key is configured), {@code oci-identity} (the repository that signatures of images read from an OCI
 * layout must name) and {@code registry-ca/HOST[:PORT].pem} (the CA bundle a registry's certificate must chain
 * to).
 */
public final class TrustStore {
    public enum Policy { REQUIRE, WARN, OFF }

    public static final TrustStore NONE = new TrustStore(null, Policy.OFF, Map.of(), Set.of(), null, Map.of());

    private final Path dir;
    private final Policy policy;
    private final Map<String, PublicKey> keys;
    private final Set<String> revoked;
    private final String ociIdentity;
    private final Map<String, Path> registryCa;
    private Consumer<String> warnings = m -> System.err.println("hupd: warning: " + m);

    private TrustStore(Path dir, Policy policy, Map<String, PublicKey> keys, Set<String> revoked,
            String ociIdentity, Map<String, Path> registryCa) {
        this.dir = dir;
        this.policy = policy;
        this.keys = keys;
        this.revoked = revoked;
        this.ociIdentity = ociIdentity;
        this.registryCa = registryCa;
    }

    /**
     * The trust store in {@code dir}; a folder that does not exist is an empty store (policy off).
     *
     * @throws UserInputException for a key that does not parse or a policy hupd does not know
     */
    public static TrustStore load(Path dir) {
        if (!Files.isDirectory(dir)) {
            return NONE;
        }
        try {
            Map<String, PublicKey> keys = new LinkedHashMap<>();
            Path keyDir = dir.resolve("keys");
            if (Files.isDirectory(keyDir)) {
                List<Path> files = new ArrayList<>();
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(keyDir, "*.pub")) {
                    ds.forEach(files::add);
                }
                files.sort(null);
                for (Path f : files) {
                    PublicKey k = SigstoreKeys.readPublic(readSmall(f), "trust store key " + f.getFileName());
                    keys.put(SigstoreKeys.fingerprint(k), k);
                }
            }
            Set<String> revoked = new TreeSet<>();
            for (String line : lines(dir.resolve("revoked"))) {
                if (!line.matches("sha256:[0-9a-f]{64}")) {
                    throw new UserInputException("trust store revoked: '" + line + "' is not a key fingerprint"
                            + " (sha256: and 64 hex digits, as hupd image keygen prints)");
                }
                revoked.add(line);
            }
            List<String> p = lines(dir.resolve("policy"));
            Policy policy = keys.isEmpty() ? Policy.OFF : Policy.REQUIRE;
            if (!p.isEmpty()) {
                try {
                    policy = Policy.valueOf(p.get(0).toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw new UserInputException("trust store policy: '" + p.get(0) + "' is not require, warn or off");
                }
            }
            List<String> oci = lines(dir.resolve("oci-identity"));
            Map<String, Path> ca = new LinkedHashMap<>();
            Path caDir = dir.resolve("registry-ca");
            if (Files.isDirectory(caDir)) {
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(caDir, "*.pem")) {
                    for (Path f : ds) {
                        String name = f.getFileName().toString();
                        ca.put(name.substring(0, name.length() - 4).toLowerCase(Locale.ROOT), f.toAbsolutePath());
                    }
                }
            }
            return new TrustStore(dir, policy, Map.copyOf(keys), Set.copyOf(revoked),
                    oci.isEmpty() ? null : oci.get(0), Map.copyOf(ca));
        } catch (IOException e) {
            throw new UserInputException("the trust store " + dir + " cannot be read: " + e.getMessage());
        }
    }

    private static String readSmall(Path f) throws IOException {
        if (Files.size(f) > 64 * 1024) {
            throw new UserInputException("trust store file " + f + " is larger than 64 KiB");
        }
        return Files.readString(f, StandardCharsets.UTF_8);
    }

    private static List<String> lines(Path f) throws IOException {
        if (!Files.isRegularFile(f)) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String l : readSmall(f).split("\n")) {
            String s = l.strip();
            if (!s.isEmpty() && !s.startsWith("#")) {
                out.add(s);
            }
        }
        return out;
    }

    public Policy policy() {
        return policy;
    }

    /** Where the warnings of the {@code warn} policy go (the update's log). */
    public TrustStore warningsTo(Consumer<String> sink) {
        this.warnings = sink;
        return this;
    }

    /** CA bundles by registry ({@code host} or {@code host:port}, lower case). */
    public Map<String, Path> registryCa() {
        return registryCa;
    }

    /** This store with more registry CA bundles (the command line's), which take precedence over its own. */
    public TrustStore withRegistryCa(Map<String, Path> more) {
        if (more.isEmpty()) {
            return this;
        }
        Map<String, Path> all = new LinkedHashMap<>(registryCa);
        more.forEach((k, v) -> all.put(k.toLowerCase(Locale.ROOT), v.toAbsolutePath()));
        TrustStore t = new TrustStore(dir, policy, keys, revoked, ociIdentity, Map.copyOf(all));
        t.warnings = warnings;
        return t;
    }

    public String describe() {
        return "policy " + policy.name().toLowerCase(Locale.ROOT) + ", " + keys.size() + " key(s), "
                + revoked.size() + " revoked" + (dir == null ? "" : " (" + dir + ")");
    }

    /**
     * Checks that a trusted key signed {@code manifestDigest} as the image {@code repository}:{@code tag}. Under
     * {@code require} a failure throws with its one-line reason; under {@code warn} it is reported and the image
     * is let in; under {@code off} nothing is read.
     *
     * @param repository {@code HOST/REPO} the signature must name, or null for an OCI layout (then the store's
     *     {@code oci-identity}, when set)
     * @param tag the tag the signature must name, or null when the image was asked for by digest
     */
    public void check(String repository, String tag, String manifestDigest, SignatureFetcher fetcher)
            throws IOException {
        if (policy == Policy.OFF) {
            return;
        }
        String problem = problem(repository == null ? ociIdentity : repository, tag, manifestDigest, fetcher);
        if (problem == null) {
            return;
        }
        if (policy == Policy.REQUIRE) {
            throw new SignatureException("signature check failed: " + problem);
        }
        warnings.accept("signature check failed, installing anyway (trust policy warn): " + problem);
    }

    private String problem(String repository, String tag, String digest, SignatureFetcher fetcher)
            throws IOException {
        if (keys.isEmpty()) {
            return "the trust store has no keys";
        }
        String sigTag = CosignSignatures.tagFor(digest);
        byte[] manifest = fetcher.manifest(sigTag);
        if (manifest == null) {
            return "the image " + digest + " is not signed (no " + sigTag + ")";
        }
        List<CosignSignatures.Attached> sigs = CosignSignatures.parse(manifest);
        if (sigs.isEmpty()) {
            return "the signature manifest " + sigTag + " holds no simple-signing signature";
        }
        List<String> reasons = new ArrayList<>();
        for (CosignSignatures.Attached s : sigs) {
            String why = checkOne(s, repository, tag, digest, fetcher);
            if (why == null) {
                return null;
            }
            reasons.add(why);
        }
        return String.join("; ", new TreeSet<>(reasons));
    }

    private String checkOne(CosignSignatures.Attached s, String repository, String tag, String digest,
            SignatureFetcher fetcher) throws IOException {
        byte[] payload = fetcher.blob(s.payloadDigest(), s.payloadSize());
        if (payload == null || payload.length != s.payloadSize()
                || !CosignSignatures.sha256(payload).equals(s.payloadDigest())) {
            return "a signature's payload does not match its digest";
        }
        byte[] sig;
        try {
            sig = Base64.getDecoder().decode(s.signatureBase64());
        } catch (IllegalArgumentException e) {
            return "a signature is not base64";
        }
        String signer = null;
        String revokedSigner = null;
        for (Map.Entry<String, PublicKey> k : keys.entrySet()) {
            if (verifies(k.getValue(), payload, sig)) {
                if (revoked.contains(k.getKey())) {
                    revokedSigner = k.getKey();
                } else {
                    signer = k.getKey();
                }
            }
        }
        if (signer == null) {
            return revokedSigner != null ? "signed by the revoked key " + revokedSigner
                    : "not signed by any key of the trust store";
        }
        SimpleSigning p = SimpleSigning.parse(payload);
        if (!p.manifestDigest().equals(digest)) {
            return "the signature is for the manifest " + p.manifestDigest() + ", not " + digest;
        }
        return identityProblem(p.dockerReference(), repository, tag);
    }

    static String identityProblem(String signed, String repository, String tag) {
        String name = signed;
        int at = name.indexOf('@');
        if (at >= 0) {
            name = name.substring(0, at);
        }
        int slash = name.lastIndexOf('/');
        int colon = name.lastIndexOf(':');
        String signedRepo = colon > slash ? name.substring(0, colon) : name;
        String signedTag = colon > slash ? name.substring(colon + 1) : null;
        if (repository != null && !signedRepo.equalsIgnoreCase(repository)) {
            return "the signature names the image " + signed + ", not the repository " + repository;
        }
        if (tag != null && !tag.equals(signedTag)) {
            return "the signature names the image " + signed + ", not the tag " + tag;
        }
        return null;
    }

    private static boolean verifies(PublicKey key, byte[] payload, byte[] sig) {
        try {
            Signature v = Signature.getInstance("SHA256withECDSA");
            v.initVerify(key);
            v.update(payload);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
