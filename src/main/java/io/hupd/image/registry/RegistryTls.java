package io.hupd.image.registry;

import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The CA bundles registries are checked against (a device's {@code trust/registry-ca/HOST[:PORT].pem}, or
 * {@code hupd update --registry-ca HOST[:PORT]=FILE}). A registry with a bundle is spoken to over TLS only,
 * even on loopback, and its certificate must chain to that bundle alone: the system's CAs do not count for it.
 */
public final class RegistryTls {
    public static final RegistryTls NONE = new RegistryTls(Map.of());
    private final Map<String, Path> bundles;

    private RegistryTls(Map<String, Path> bundles) {
        this.bundles = bundles;
    }

    public static RegistryTls of(Map<String, Path> bundles) {
        return bundles.isEmpty() ? NONE : new RegistryTls(Map.copyOf(bundles));
    }

    /** The bundle for {@code registry} ({@code HOST[:PORT]}): an entry with its port first, then its host alone. */
    public Optional<Path> bundleFor(String registry) {
        String r = registry.toLowerCase(Locale.ROOT);
        Path p = bundles.get(r);
        if (p == null) {
            URI u = URI.create("//" + r);
            p = u.getHost() == null ? null : bundles.get(u.getHost());
        }
        return Optional.ofNullable(p);
    }

    /**
     * A TLS context that trusts the certificates of {@code bundle} and nothing else.
     *
     * @throws UserInputException when the bundle is missing or holds no certificate
     */
    public static SSLContext context(Path bundle) {
        try (InputStream in = Files.newInputStream(bundle)) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int n = 0;
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("ca" + n++, (X509Certificate) c);
            }
            if (n == 0) {
                throw new UserInputException("the CA bundle " + bundle + " holds no certificate");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException e) {
            throw new UserInputException("the CA bundle " + bundle + " cannot be read: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new UserInputException("the CA bundle " + bundle + " is not a PEM certificate list: "
                    + e.getMessage());
        }
    }

    /** Why a handshake failed, in the operator's words rather than the JDK's chain of causes. */
    static String explain(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertificateExpiredException) {
                return "its certificate has expired";
            }
            if (t instanceof CertificateNotYetValidException) {
                return "its certificate is not valid yet";
            }
            if (t instanceof CertPathValidatorException v && v.getReason()
                    == CertPathValidatorException.BasicReason.EXPIRED) {
                return "its certificate has expired";
            }
            String m = String.valueOf(t.getMessage());
            if (t instanceof java.security.cert.CertificateException && (m.contains("No subject alternative")
                    || m.contains("No name matching"))) {
                return "its certificate is for another host name (" + m + ")";
            }
            if (m.contains("unable to find valid certification path")) {
                return "its certificate is not signed by a trusted CA";
            }
        }
        return null;
    }
}
