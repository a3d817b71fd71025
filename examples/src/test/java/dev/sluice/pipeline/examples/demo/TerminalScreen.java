package dev.sluice.pipeline.examples.demo;

import java.util.ArrayList;
import java.util.List;

/** A small model of a terminal, enough for the progress line: what a user sees after the bytes written to it. */
final class TerminalScreen {

    private TerminalScreen() {}

    /**
     * The lines a terminal shows after {@code bytes}: a carriage return goes back to the line's start, ESC [ K erases
     * from the cursor to the line's end, a line feed starts a new line, anything else overwrites the character under
     * the cursor. A last empty line (the cursor's, after a line feed) is left out.
     */
    static List<String> of(String bytes) {
        List<StringBuilder> lines = new ArrayList<>(List.of(new StringBuilder()));
        int column = 0;
        for (int i = 0; i < bytes.length(); i++) {
            char c = bytes.charAt(i);
            StringBuilder line = lines.getLast();
            if (c == '\r') {
                column = 0;
            } else if (c == '\n') {
                lines.add(new StringBuilder());
                column = 0;
            } else if (c == '\u001b' && bytes.startsWith("[K", i + 1)) {
                line.setLength(Math.min(line.length(), column));
                i += 2;
            } else {
                if (column < line.length()) {
                    line.setCharAt(column, c);
                } else {
                    line.append(c);
                }
                column++;
            }
        }
        if (lines.getLast().isEmpty()) {
            lines.removeLast();
        }
        return lines.stream().map(StringBuilder::toString).toList();
    }
}
