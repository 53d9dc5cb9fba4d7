package io.hupd.steps;

import io.hupd.image.oci.ResolvedImage;
import io.hupd.ports.StatePartition;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;

/**
 * The anti-rollback floor (docs/trust.md): the highest security version this device has committed, kept in
 * the state partition outside the database (a lost database does not lower it). Images below it are refused
 * whatever the options; it rises only when an update commits, so rolling back to the previous OS before the
 * commit is still allowed.
 */
public final class SecurityFloor {
    /** The state partition file; its content is the floor, a decimal number. An on-disk contract. */
    public static final String FILE = "hupd-security-floor";
    public static final String LABEL = "io.hupd.security-version";
    public static final String OS_RELEASE_KEY = "HUPD_SECURITY_VERSION";
    private static final long MAX = 1L << 40;

    private SecurityFloor() {}

    /**
     * The floor; 0 when none was ever written.
     *
     * @throws IOException when the file holds something that is not a number: refusing every update is safer
     *     than reading it as 0
     */
    public static long read(StatePartition state) throws IOException {
        Optional<String> s = state.read(FILE);
        if (s.isEmpty()) {
            return 0;
        }
        Long v = parse(s.get().strip());
        if (v == null) {
            throw new IOException("the security floor file " + FILE + " in the state partition is damaged ('"
                    + s.get().strip() + "'): fix it by hand");
        }
        return v;
    }

    /** Raises the floor to {@code version}; never lowers it. Durable (AtomicFiles). */
    public static void raise(StatePartition state, long version) throws IOException {
        if (version > read(state)) {
            state.writeMarker(FILE, version + "\n");
        }
    }

    /** The image's security version from its config label; 0 without one, null when the label is malformed. */
    public static Long of(ResolvedImage image) {
        Map<String, String> labels = image.labels() == null ? Map.of() : image.labels();
        String v = labels.get(LABEL);
        return v == null ? Long.valueOf(0) : parse(v.strip());
    }

    static Long parse(String s) {
        if (!s.matches("[0-9]{1,13}")) {
            return null;
        }
        long v = Long.parseLong(s);
        return v > MAX ? null : v;
    }

    /** The one-line refusal, or null when the image may be installed. */
    public static String problem(StatePartition state, ResolvedImage image) throws IOException {
        Long v = of(image);
        if (v == null) {
            return "the image's " + LABEL + " label is not a whole number";
        }
        long floor = read(state);
        if (v < floor) {
            return "the image's security version " + v + " is below this device's anti-rollback floor " + floor
                    + ": refused whatever the options";
        }
        return null;
    }
}
