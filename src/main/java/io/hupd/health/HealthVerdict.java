package io.hupd.health;

import java.nio.charset.StandardCharsets;

/**
 * The outcome of rollback-health. {@code output} is kept small because it is persisted with the rollback reason
 * and shown by {@code hupd status}.
 */
public record HealthVerdict(boolean healthy, int tries, String failedCheck /* null when healthy */,
        String output /* that check's output, trimmed to <= 4 KiB */) {
    public static final int MAX_OUTPUT_BYTES = 4096;
    private static final String ELLIPSIS = "…";

    public HealthVerdict {
        if (healthy) {
            failedCheck = null;
        } else if (failedCheck == null || failedCheck.isBlank()) {
            throw new IllegalArgumentException("an unhealthy verdict names the failed check");
        }
        output = trim(output);
    }

    /** One line for logs/status: "engine: /usr/bin/balena-engine is missing (after 15 tries)". */
    public String reason() {
        String after = "(after " + tries + (tries == 1 ? " try)" : " tries)");
        if (healthy) {
            return "healthy " + after;
        }
        String first = output.lines().map(String::strip).filter(l -> !l.isEmpty()).findFirst().orElse("failed");
        return failedCheck + ": " + first + " " + after;
    }

    /** Strips, then cuts on a character boundary so the UTF-8 form stays within {@link #MAX_OUTPUT_BYTES}. */
    static String trim(String s) {
        if (s == null) {
            return "";
        }
        String t = s.strip();
        if (t.getBytes(StandardCharsets.UTF_8).length <= MAX_OUTPUT_BYTES) {
            return t;
        }
        int budget = MAX_OUTPUT_BYTES - ELLIPSIS.getBytes(StandardCharsets.UTF_8).length;
        StringBuilder b = new StringBuilder();
        int used = 0;
        for (int i = 0; i < t.length(); ) {
            int cp = t.codePointAt(i);
            int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (used + n > budget) {
                break;
            }
            b.appendCodePoint(cp);
            used += n;
            i += Character.charCount(cp);
        }
        return b.append(ELLIPSIS).toString();
    }
}
