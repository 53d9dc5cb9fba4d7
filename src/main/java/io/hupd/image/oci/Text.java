package io.hupd.image.oci;

/** Keeps untrusted strings from breaking one-line messages (control characters, megabyte-long names). */
public final class Text {
    private static final int MAX_QUOTED = 200;

    private Text() {}

    public static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(Math.min(s.length(), MAX_QUOTED) + 16);
        for (int i = 0; i < s.length(); i++) {
            if (out.length() >= MAX_QUOTED) {
                out.append("…(").append(s.length()).append(" chars)");
                break;
            }
            char c = s.charAt(i);
            if (c == '\0') {
                out.append("\\0");
            } else if (c == '\n') {
                out.append("\\n");
            } else if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    static boolean hasControlChars(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return true;
            }
        }
        return false;
    }

    /** First line of a library message, for errors that must stay on one line. */
    public static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int nl = message.indexOf('\n');
        return quote(nl < 0 ? message : message.substring(0, nl));
    }
}
