package io.hupd.machine;

import java.util.Locale;

final class Labels {
    private Labels() {}

    /** {@code ATTEMPT_LIMIT_REACHED} as {@code attemptLimitReached}. */
    static String camel(String constant) {
        StringBuilder out = new StringBuilder();
        for (String word : constant.toLowerCase(Locale.ROOT).split("_")) {
            out.append(out.length() == 0 ? word : Character.toUpperCase(word.charAt(0)) + word.substring(1));
        }
        return out.toString();
    }
}
