package io.hupd.adapters.bootloader;

import io.hupd.ports.BootSettingsException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * U-Boot's text environment ({@code env import -t}) seen two ways: {@link #parseStrict} is hupd's view, which
 * refuses anything the firmware might read differently from what it looks like; {@link #importInto} is the
 * firmware's own, lenient view, used to simulate a power-on.
 */
public final class UBootText {
    private UBootText() {}

    /** Result of an import: which names a file assigned or deleted, so overrides can be detected. */
    public record Import(Map<String, String> assigned, Set<String> touched) {}

    /**
     * Parses a machine-written file the strict way. Accepted, because U-Boot reads them exactly as they look:
     * leading blanks, blank lines, {@code #} comment lines, trailing blanks (the hush shell splits them off when
     * the script expands the variable), and NUL padding at the end (the firmware's 13-byte fatwrite of
     * bootcount.env ends in one). Everything else that U-Boot would read differently is refused.
     */
    static Map<String, String> parseStrict(Path file, byte[] content, Set<String> allowed)
            throws BootSettingsException {
        int end = content.length;
        for (int i = 0; i < content.length; i++) {
            if (content[i] == 0) {
                end = i;
                for (int j = i; j < content.length; j++) {
                    if (content[j] != 0) {
                        throw bad(file, "data after a NUL byte at offset " + i + " (U-Boot stops reading there)");
                    }
                }
                break;
            }
        }
        for (int i = 0; i < end; i++) {
            int b = content[i] & 0xff;
            if (b == '\r') {
                throw bad(file, "line " + lineOf(content, i) + " ends in CR (Windows line ending); U-Boot's"
                        + " env import -t keeps the CR in the value, so the firmware would not read it as meant");
            }
            if (b >= 0x80 || (b < 0x20 && b != '\n' && b != '\t')) {
                throw bad(file, String.format("unexpected byte 0x%02x on line %d", b, lineOf(content, i)));
            }
        }
        String text = new String(content, 0, end, StandardCharsets.US_ASCII);
        String[] lines = text.split("\n", -1);
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, Integer> lineOfKey = new LinkedHashMap<>();
        for (int n = 0; n < lines.length; n++) {
            String line = stripLeadingBlanks(lines[n]);
            int lineNo = n + 1;
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw bad(file, "line " + lineNo + " '" + clip(line) + "' has no '=' (U-Boot would delete a"
                        + " variable of that name)");
            }
            String name = line.substring(0, eq);
            if (!name.matches("[A-Za-z0-9_]+")) {
                throw bad(file, "line " + lineNo + ": malformed variable name '" + clip(name) + "'");
            }
            String value = line.substring(eq + 1);
            if (value.indexOf('\\') >= 0) {
                throw bad(file, "line " + lineNo + ": backslash in the value of " + name
                        + " (U-Boot treats it as an escape)");
            }
            value = stripTrailingBlanks(value);
            if (!allowed.contains(name)) {
                throw bad(file, "line " + lineNo + ": unexpected variable '" + name + "' (expected only "
                        + String.join(", ", allowed.stream().sorted().toList()) + ")");
            }
            if (value.isEmpty()) {
                throw bad(file, "line " + lineNo + ": " + name + " has no value (U-Boot would delete it)");
            }
            Integer first = lineOfKey.putIfAbsent(name, lineNo);
            if (first != null) {
                throw bad(file, "duplicate " + name + " on lines " + first + " and " + lineNo);
            }
            values.put(name, value);
        }
        return values;
    }

    /**
     * Imports a file into {@code env} the way {@code env import -t} without {@code -r} does: lines split at
     * newline (a CR stays in the value), leading blanks and {@code #} lines skipped, {@code name} or
     * {@code name=} deletes, a backslash escapes the next character (so it can continue a value onto the next
     * line), the import ends at the first NUL, and a later assignment wins.
     */
    public static Import importInto(byte[] content, Map<String, String> env) {
        Map<String, String> assigned = new LinkedHashMap<>();
        Set<String> touched = new java.util.LinkedHashSet<>();
        int size = content.length;
        int p = 0;
        while (p < size && content[p] != 0) {
            while (p < size && (content[p] == ' ' || content[p] == '\t')) {
                p++;
            }
            if (p < size && content[p] == '#') {
                while (p < size && content[p] != 0 && content[p] != '\n') {
                    p++;
                }
                p++;
                continue;
            }
            int nameStart = p;
            while (p < size && content[p] != 0 && content[p] != '=' && content[p] != '\n') {
                p++;
            }
            String name = latin1(content, nameStart, p);
            boolean hasValue = p < size && content[p] == '=' && p + 1 < size && content[p + 1] != 0
                    && content[p + 1] != '\n';
            if (!hasValue) {
                // "name" and "name=" both delete; an empty line is a delete of "" and does nothing
                p += (p < size && content[p] == '=') ? 2 : 1;
                if (!name.isEmpty()) {
                    env.remove(name);
                    assigned.remove(name);
                    touched.add(name);
                }
                continue;
            }
            p++;
            StringBuilder value = new StringBuilder();
            while (p < size && content[p] != 0 && content[p] != '\n') {
                if (content[p] == '\\' && p + 1 < size && content[p + 1] != 0) {
                    p++;
                }
                value.append((char) (content[p] & 0xff));
                p++;
            }
            p++;
            if (name.isEmpty()) {
                // U-Boot aborts the rest of the import on an empty name
                break;
            }
            env.put(name, value.toString());
            assigned.put(name, value.toString());
            touched.add(name);
        }
        return new Import(assigned, touched);
    }

    /** The first word of a value as the hush shell splits an unquoted expansion; null when there is none. */
    public static String firstWord(String value) {
        if (value == null) {
            return null;
        }
        int a = 0;
        while (a < value.length() && isIfs(value.charAt(a))) {
            a++;
        }
        int b = a;
        while (b < value.length() && !isIfs(value.charAt(b))) {
            b++;
        }
        return a == b ? null : value.substring(a, b);
    }

    private static boolean isIfs(char c) {
        return c == ' ' || c == '\t' || c == '\n';
    }

    /** Leading digits in base 10 with an optional sign, 0 when there are none (how {@code test -gt} reads). */
    public static long decimalPrefix(String s) {
        if (s == null) {
            return 0;
        }
        int i = 0;
        boolean neg = false;
        if (i < s.length() && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
            neg = s.charAt(i) == '-';
            i++;
        }
        long v = 0;
        while (i < s.length() && Character.isDigit(s.charAt(i)) && v < Long.MAX_VALUE / 16) {
            v = v * 10 + (s.charAt(i) - '0');
            i++;
        }
        return neg ? -v : v;
    }

    /** Leading hex digits after an optional 0x, 0 when there are none (how {@code setexpr} reads). */
    public static long hexPrefix(String s) {
        if (s == null) {
            return 0;
        }
        int i = (s.startsWith("0x") || s.startsWith("0X")) ? 2 : 0;
        long v = 0;
        while (i < s.length() && Character.digit(s.charAt(i), 16) >= 0 && v < Long.MAX_VALUE / 32) {
            v = v * 16 + Character.digit(s.charAt(i), 16);
            i++;
        }
        return v;
    }

    /** A whole-string hex number as U-Boot's partition syntax needs it, or -1. */
    public static long hexWhole(String s) {
        if (s == null) {
            return -1;
        }
        String t = (s.startsWith("0x") || s.startsWith("0X")) ? s.substring(2) : s;
        if (t.isEmpty() || t.length() > 8) {
            return -1;
        }
        for (int i = 0; i < t.length(); i++) {
            if (Character.digit(t.charAt(i), 16) < 0) {
                return -1;
            }
        }
        return Long.parseLong(t, 16);
    }

    static String stripTrailingBlanks(String s) {
        int b = s.length();
        while (b > 0 && (s.charAt(b - 1) == ' ' || s.charAt(b - 1) == '\t')) {
            b--;
        }
        return s.substring(0, b);
    }

    private static String stripLeadingBlanks(String s) {
        int a = 0;
        while (a < s.length() && (s.charAt(a) == ' ' || s.charAt(a) == '\t')) {
            a++;
        }
        return s.substring(a);
    }

    private static String latin1(byte[] b, int from, int to) {
        return new String(b, from, Math.max(0, Math.min(to, b.length) - from), StandardCharsets.ISO_8859_1);
    }

    private static int lineOf(byte[] content, int offset) {
        int line = 1;
        for (int i = 0; i < offset; i++) {
            if (content[i] == '\n') {
                line++;
            }
        }
        return line;
    }

    static String clip(String s) {
        String printable = s.replaceAll("[^\\x20-\\x7e]", "?");
        return printable.length() > 40 ? printable.substring(0, 40) + "..." : printable;
    }

    static BootSettingsException bad(Path file, String problem) {
        return new BootSettingsException(file + ": " + problem);
    }
}
