package io.hupd.image.oci;

import io.hupd.ports.UserInputException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * Where an image is: {@code oci:PATH[:TAG]} (an OCI image layout on disk) or
 * {@code docker://HOST[:PORT]/REPO[:TAG|@sha256:...]} (a distribution registry).
 *
 * <p>For {@code oci:} the tag is what follows the last ':' when that part is a valid tag (no '/'), so
 * {@code oci:/srv/img:v1} is the layout {@code /srv/img} at tag {@code v1}; a path that itself ends in
 * ":something" needs an explicit tag.
 */
public final class ImageReference {
    public static final String DEFAULT_TAG = "latest";
    private static final int MAX_LENGTH = 4096;
    // Tag and repository grammars of the OCI distribution spec.
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    private static final Pattern REPO_COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern HOST_NAME =
            Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");
    private static final Pattern HOST_IPV6 = Pattern.compile("\\[[0-9A-Fa-f:.]{2,45}\\]");
    private static final String EXPECTED = "expected oci:PATH[:TAG] or docker://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST]";

    private final boolean oci;
    private final Path layoutPath;
    private final String tag;
    private final boolean tagGiven;
    private final String host;
    private final int port;
    private final String repository;
    private final String digest;

    private ImageReference(boolean oci, Path layoutPath, String tag, boolean tagGiven, String host, int port,
            String repository, String digest) {
        this.oci = oci;
        this.layoutPath = layoutPath;
        this.tag = tag;
        this.tagGiven = tagGiven;
        this.host = host;
        this.port = port;
        this.repository = repository;
        this.digest = digest;
    }

    /** @throws UserInputException with a one-line message naming what is wrong */
    public static ImageReference parse(String ref) {
        if (ref == null || ref.isBlank()) {
            throw new UserInputException("image reference is empty (" + EXPECTED + ")");
        }
        if (ref.length() > MAX_LENGTH) {
            throw new UserInputException("image reference is longer than " + MAX_LENGTH + " characters");
        }
        if (Text.hasControlChars(ref)) {
            throw new UserInputException("image reference '" + Text.quote(ref) + "' contains control characters");
        }
        if (!ref.strip().equals(ref)) {
            throw new UserInputException("image reference '" + ref + "' has leading or trailing spaces");
        }
        if (ref.startsWith("oci:")) {
            return parseOci(ref, ref.substring("oci:".length()));
        }
        if (ref.startsWith("docker://")) {
            return parseDocker(ref, ref.substring("docker://".length()));
        }
        int colon = ref.indexOf(':');
        String scheme = colon > 0 && ref.substring(0, colon).matches("[A-Za-z][A-Za-z0-9+.-]*")
                && ref.startsWith("//", colon + 1)
                ? "unknown scheme '" + ref.substring(0, colon) + ":'" : "no scheme";
        throw new UserInputException("image reference '" + ref + "' has " + scheme + " (" + EXPECTED + ")");
    }

    /** The reference of a layout this process wrote itself (path and tag already checked). */
    public static ImageReference ociLayout(Path layout, String tag) {
        return new ImageReference(true, layout.normalize(), tag, true, null, -1, null, null);
    }

    private static ImageReference parseOci(String ref, String rest) {
        if (rest.isEmpty() || rest.startsWith(":")) {
            throw new UserInputException("image reference '" + ref + "' has no layout path (expected oci:PATH[:TAG])");
        }
        String pathPart = rest;
        String tag = DEFAULT_TAG;
        boolean tagGiven = false;
        int colon = rest.lastIndexOf(':');
        if (colon >= 0) {
            String after = rest.substring(colon + 1);
            if (!after.contains("/")) {
                if (!TAG.matcher(after).matches()) {
                    throw new UserInputException("image reference '" + ref + "' has a bad tag '" + after
                            + "' (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')");
                }
                pathPart = rest.substring(0, colon);
                tag = after;
                tagGiven = true;
                if (pathPart.isEmpty()) {
                    throw new UserInputException("image reference '" + ref
                            + "' has no layout path (expected oci:PATH[:TAG])");
                }
            }
        }
        Path path;
        try {
            path = Path.of(pathPart).normalize();
        } catch (InvalidPathException e) {
            throw new UserInputException("image reference '" + ref + "' has a bad path: " + e.getReason());
        }
        if (path.toString().isEmpty()) {
            throw new UserInputException("image reference '" + ref + "' has no layout path (expected oci:PATH[:TAG])");
        }
        return new ImageReference(true, path, tag, tagGiven, null, -1, null, null);
    }

    private static ImageReference parseDocker(String ref, String rest) {
        int slash = rest.indexOf('/');
        if (rest.isEmpty() || slash == 0) {
            throw new UserInputException("image reference '" + ref + "' has no registry host (expected docker://HOST[:PORT]/REPO[:TAG])");
        }
        if (slash < 0) {
            throw new UserInputException("image reference '" + ref + "' has no repository after the host"
                    + " (expected docker://HOST[:PORT]/REPO[:TAG]; Docker Hub is docker://docker.io/library/NAME)");
        }
        String hostPort = rest.substring(0, slash);
        String host = hostPort;
        int port = -1;
        int portColon = hostPort.startsWith("[") ? hostPort.indexOf("]:") + 1 : hostPort.lastIndexOf(':');
        if (portColon > 0) {
            host = hostPort.substring(0, portColon);
            String portText = hostPort.substring(portColon + 1);
            if (!portText.matches("[0-9]{1,5}") || Integer.parseInt(portText) < 1 || Integer.parseInt(portText) > 65535) {
                throw new UserInputException("image reference '" + ref + "' has a bad port '" + portText + "' (1-65535)");
            }
            port = Integer.parseInt(portText);
        }
        if (!(HOST_NAME.matcher(host).matches() && host.length() <= 253) && !HOST_IPV6.matcher(host).matches()) {
            throw new UserInputException("image reference '" + ref + "' has a bad registry host '" + host + "'");
        }
        if (port < 0 && !host.contains(".") && !host.equals("localhost") && !host.startsWith("[")) {
            throw new UserInputException("image reference '" + ref + "' does not start with a registry host ('"
                    + host + "' has no '.' or port; Docker Hub is docker://docker.io/library/NAME)");
        }
        String nameAndRef = rest.substring(slash + 1);
        String digest = null;
        int at = nameAndRef.indexOf('@');
        if (at >= 0) {
            digest = nameAndRef.substring(at + 1);
            nameAndRef = nameAndRef.substring(0, at);
            if (!Digests.isSha256(digest)) {
                throw new UserInputException("image reference '" + ref + "' has a bad digest '" + digest
                        + "' (expected sha256: and 64 lowercase hex digits)");
            }
        }
        String tag = DEFAULT_TAG;
        boolean tagGiven = false;
        int lastSlash = nameAndRef.lastIndexOf('/');
        int tagColon = nameAndRef.indexOf(':', lastSlash + 1);
        String repo = nameAndRef;
        if (tagColon >= 0) {
            tag = nameAndRef.substring(tagColon + 1);
            repo = nameAndRef.substring(0, tagColon);
            tagGiven = true;
            if (!TAG.matcher(tag).matches()) {
                throw new UserInputException("image reference '" + ref + "' has a bad tag '" + tag
                        + "' (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')");
            }
        }
        if (repo.isEmpty()) {
            throw new UserInputException("image reference '" + ref + "' has no repository after the host");
        }
        if (repo.length() > 255) {
            throw new UserInputException("image reference '" + ref + "' has a repository name longer than 255");
        }
        for (String component : repo.split("/", -1)) {
            if (!REPO_COMPONENT.matcher(component).matches()) {
                throw new UserInputException("image reference '" + ref + "' has a bad repository '" + repo
                        + "' (lowercase letters, digits and separators . _ __ - between '/'-separated parts)");
            }
        }
        return new ImageReference(false, null, tag, tagGiven, host, port, repo, digest);
    }

    public boolean isOciLayout() {
        return oci;
    }

    /** The layout folder of an {@code oci:} reference. */
    public Path layoutPath() {
        if (!oci) {
            throw new IllegalStateException("not an oci: reference: " + this);
        }
        return layoutPath;
    }

    /**
     * The tag, "latest" when none was given. For a {@code docker://} reference with a digest, {@link #digest()}
     * decides what is fetched; see {@link #manifestReference()}.
     */
    public String tag() {
        return tag;
    }

    public String host() {
        requireDocker();
        return host;
    }

    public OptionalInt port() {
        requireDocker();
        return port < 0 ? OptionalInt.empty() : OptionalInt.of(port);
    }

    /** HOST or HOST:PORT, as used in registry URLs. */
    public String registry() {
        requireDocker();
        return port < 0 ? host : host + ":" + port;
    }

    public String repository() {
        requireDocker();
        return repository;
    }

    public Optional<String> digest() {
        return Optional.ofNullable(digest);
    }

    /** What to ask the registry for: the digest when one was given, else the tag. */
    public String manifestReference() {
        return digest != null ? digest : tag;
    }

    private void requireDocker() {
        if (oci) {
            throw new IllegalStateException("not a docker:// reference: " + this);
        }
    }

    /** The canonical form: {@code oci:PATH:TAG} or {@code docker://HOST[:PORT]/REPO[:TAG][@DIGEST]}. */
    @Override
    public String toString() {
        if (oci) {
            return "oci:" + layoutPath + ":" + tag;
        }
        StringBuilder s = new StringBuilder("docker://").append(registry()).append('/').append(repository);
        if (tagGiven || digest == null) {
            s.append(':').append(tag);
        }
        if (digest != null) {
            s.append('@').append(digest);
        }
        return s.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageReference other && toString().equals(other.toString());
    }

    @Override
    public int hashCode() {
        return Objects.hash(toString());
    }
}
