package io.hupd.steps;

import io.hupd.ports.UserInputException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A balenaOS version: {@code MAJOR.MINOR.PATCH}, optionally {@code +revN} (a rebuild of the same release, ordered
 * by N) and a pre-release part, which balena strips before comparing ({@code 1.2.3-x+rev2} compares as
 * {@code 1.2.3+rev2}). Year-style versions ({@code 2024.1.0}) order after every 2.x–9.x release naturally.
 */
public record OsVersion(int major, int minor, int patch, int rev) implements Comparable<OsVersion> {
    private static final Pattern FORM = Pattern.compile(
            "v?(\\d{1,4})\\.(\\d{1,4})\\.(\\d{1,6})(?:-[0-9A-Za-z.-]+)?(?:\\+rev(\\d{1,6}))?(?:\\.(?:dev|prod))?");

    public static OsVersion parse(String s) {
        if (s == null || s.isBlank()) {
            throw new UserInputException("version is empty: give it as MAJOR.MINOR.PATCH, e.g. 2.115.3");
        }
        Matcher m = FORM.matcher(s.strip());
        if (!m.matches()) {
            throw new UserInputException("'" + printable(s) + "' is not a version: give it as MAJOR.MINOR.PATCH"
                    + " (optionally +revN), e.g. 2.115.3");
        }
        return new OsVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)), m.group(4) == null ? 0 : Integer.parseInt(m.group(4)));
    }

    @Override
    public int compareTo(OsVersion o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) {
            c = Integer.compare(minor, o.minor);
        }
        if (c == 0) {
            c = Integer.compare(patch, o.patch);
        }
        return c != 0 ? c : Integer.compare(rev, o.rev);
    }

    public boolean isNewerThan(OsVersion o) {
        return compareTo(o) > 0;
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch + (rev > 0 ? "+rev" + rev : "");
    }

    /**
     * Keeps hostile input from breaking a one-line message: control and invisible formatting characters become
     * '?', letters of other scripts are echoed as typed.
     */
    static String printable(String s) {
        String t = s.replaceAll("[\\p{Cc}\\p{Cf}\\p{Co}\\p{Cn}\\p{Zl}\\p{Zp}]", "?");
        return t.length() > 60 ? t.substring(0, 57) + "..." : t;
    }
}
