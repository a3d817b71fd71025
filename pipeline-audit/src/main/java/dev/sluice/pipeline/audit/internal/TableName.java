package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.internal.check.Require;
import java.util.regex.Pattern;

/**
 * Where an audit table lives: its name, and the schema (PostgreSQL) or database (MariaDB, MySQL) that holds it, or
 * null for the connection's current one. Both are plain SQL identifiers that need no escaping in any store: the only
 * text a sink splices into SQL.
 *
 * @param schema the schema, or null for the connection's current one
 * @param table the table's name
 */
public record TableName(String schema, String table) {

    /** The longest name: PostgreSQL keeps 63 bytes of an identifier, and index names add 19 characters. */
    public static final int MAX_LENGTH = 40;

    private static final Pattern PLAIN = Pattern.compile("[a-z_][a-z0-9_]*");

    /** The table {@code table} in the connection's current schema. */
    public static TableName of(String table) {
        return new TableName(null, check(table, "table"));
    }

    /** This table in {@code schema}. */
    public TableName inSchema(String schema) {
        return new TableName(check(schema, "schema"), table);
    }

    /** The name as a reader writes it: {@code schema.table}, or {@code table}. */
    @Override
    public String toString() {
        return schema == null ? table : schema + "." + table;
    }

    /**
     * {@code name}, if it is 1 to {@value #MAX_LENGTH} lowercase ASCII letters, digits and underscores, not starting
     * with a digit. Lowercase only, because PostgreSQL folds unquoted names to lowercase: {@code Audit} and
     * {@code audit} would otherwise name different tables depending on how a query quotes them.
     *
     * @param name the identifier
     * @param argument what it names, for the message
     * @return {@code name}
     * @throws IllegalArgumentException naming the argument, the value and the rule otherwise
     */
    public static String check(String name, String argument) {
        Require.nonNull(name, argument);
        Require.argument(
                name.length() <= MAX_LENGTH && isPlainIdentifier(name),
                argument,
                "be 1 to " + MAX_LENGTH + " lowercase letters, digits or underscores, not starting with a digit",
                "'" + Text.oneLine(name.length() > 60 ? name.substring(0, 60) + "…" : name) + "'");
        return name;
    }

    static boolean isPlainIdentifier(String name) {
        return name != null
                && !name.isEmpty()
                && name.length() <= MAX_LENGTH + 19
                && PLAIN.matcher(name).matches();
    }
}
