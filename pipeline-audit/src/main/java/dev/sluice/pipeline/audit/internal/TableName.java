package dev.sluice.pipeline.audit.internal;

import java.util.Objects;
import java.util.regex.Pattern;

/** The rule for an audit table's name: a plain SQL identifier that needs no escaping in any store. */
public final class TableName {

    /** The longest name: PostgreSQL keeps 63 bytes of an identifier, and index names add 19 characters. */
    public static final int MAX_LENGTH = 40;

    private static final Pattern PLAIN = Pattern.compile("[a-z_][a-z0-9_]*");

    private TableName() {}

    /**
     * {@code name}, if it is 1 to {@value #MAX_LENGTH} lowercase ASCII letters, digits and underscores, not starting
     * with a digit. Lowercase only, because PostgreSQL folds unquoted names to lowercase: {@code Audit} and
     * {@code audit} would otherwise name different tables depending on how a query quotes them.
     *
     * @throws IllegalArgumentException naming the value and the rule otherwise
     */
    public static String check(String name) {
        Objects.requireNonNull(name, "table must not be null");
        if (name.length() > MAX_LENGTH || !isPlainIdentifier(name)) {
            String shown = name.length() > 60 ? name.substring(0, 60) + "…" : name;
            throw new IllegalArgumentException("table must be 1 to " + MAX_LENGTH + " lowercase letters, digits or "
                    + "underscores, not starting with a digit, got '" + Text.oneLine(shown) + "'");
        }
        return name;
    }

    static boolean isPlainIdentifier(String name) {
        return name != null
                && !name.isEmpty()
                && name.length() <= MAX_LENGTH + 19
                && PLAIN.matcher(name).matches();
    }
}
