package io.hupd.image.registry;

import java.util.Objects;

/**
 * Registry-supplied text (headers, error bodies, exception messages) as it may appear in a message: a hostile or
 * broken registry must not be able to write control characters or pages of text into the user's terminal or log.
 */
final class RegistryText {
    private RegistryText() {}

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return printable(nl < 0 ? s : s.substring(0, nl));
    }

    /** Control characters dropped, length capped. */
    static String printable(String s) {
        String clean = Objects.requireNonNullElse(s, "").replaceAll("[\\p{Cntrl}]", "?");
        return clean.length() > 200 ? clean.substring(0, 200) + "..." : clean;
    }
}
