package dev.sluice.pipeline.audit.internal;

/** What text must look like to be stored in every audit store, and to be logged on one line. */
public final class Text {

    /** U+FFFD, the Unicode replacement character. */
    private static final char REPLACEMENT = '\uFFFD';

    private Text() {}

    /**
     * {@code s} with U+0000 and unpaired surrogates replaced by U+FFFD: PostgreSQL refuses U+0000 in {@code text} and
     * {@code jsonb}, and an unpaired surrogate has no UTF-8 form. Returns {@code s} itself when nothing needs
     * replacing, and null for null.
     */
    public static String storable(String s) {
        if (s == null) {
            return null;
        }
        int n = s.length();
        int i = 0;
        while (i < n && isFine(s, i)) {
            i += Character.isHighSurrogate(s.charAt(i)) ? 2 : 1;
        }
        if (i >= n) {
            return s;
        }
        StringBuilder b = new StringBuilder(n).append(s, 0, i);
        while (i < n) {
            char c = s.charAt(i);
            if (isFine(s, i)) {
                b.append(c);
                if (Character.isHighSurrogate(c)) {
                    b.append(s.charAt(i + 1));
                    i++;
                }
            } else {
                b.append(REPLACEMENT);
            }
            i++;
        }
        return b.toString();
    }

    private static boolean isFine(String s, int i) {
        char c = s.charAt(i);
        if (c == 0) {
            return false;
        }
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return !Character.isLowSurrogate(c);
    }

    /**
     * {@code s} made safe for one log line: line breaks and other control characters escaped ({@code \n},
     * {@code \r}, {@code \t}, {@code \}{@code uXXXX}), so that a hostile value cannot forge log lines.
     */
    public static String oneLine(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != 0x7F && c != '\u2028' && c != '\u2029') {
                if (b != null) {
                    b.append(c);
                }
                continue;
            }
            if (b == null) {
                b = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> b.append(String.format("\\u%04x", (int) c));
            }
        }
        return b == null ? s : b.toString();
    }

    /** How many bytes {@code s} takes in UTF-8; an unpaired surrogate counts as the 3 bytes of its replacement. */
    public static int utf8Length(String s) {
        int bytes = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /** {@code s} cut to at most {@code max} characters, marked as cut, never splitting a surrogate pair. */
    public static String truncate(String s, int max) {
        if (s == null || s.length() <= max) {
            return s;
        }
        String marker = "… [truncated from " + s.length() + " characters]";
        int keep = Math.max(0, max - marker.length());
        if (keep > 0 && Character.isHighSurrogate(s.charAt(keep - 1))) {
            keep--;
        }
        return s.substring(0, keep) + marker;
    }
}
