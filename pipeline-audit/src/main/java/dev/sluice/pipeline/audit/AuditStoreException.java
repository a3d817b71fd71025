package dev.sluice.pipeline.audit;

import java.sql.SQLException;
import org.jspecify.annotations.Nullable;

/**
 * An audit store could not take or give events: the database is down, refused a statement, or holds a table of
 * another shape. The message names the store, what was being done and why it failed; the cause is the underlying
 * exception (usually a {@link java.sql.SQLException}).
 *
 * <p>{@link #sqlState()} tells an {@link AuditWriter} what kind of failure it is: a state of class 22 (data
 * exception), 23 (integrity constraint violation) or 54 (program limit exceeded) means the store refuses what the
 * events hold, and no retry can change that; the writer then finds the events it refuses and sets them aside. Any
 * other state, or none, means the store is failing; the writer retries, then spills. Code that writes to a sink
 * directly decides for itself.
 *
 * @since 0.1
 */
public final class AuditStoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The SQLState, or null. */
    private final @Nullable String sqlState;

    /**
     * An exception with a message that names the store, the operation and the reason, and the cause (or null). Its
     * {@link #sqlState()} is the first SQLState found along the cause's chain of causes, if any.
     *
     * @param message what failed, where and why
     * @param cause the underlying exception, or null
     * @since 0.1
     */
    public AuditStoreException(String message, @Nullable Throwable cause) {
        this(message, cause, sqlStateOf(cause));
    }

    /**
     * An exception with a message, a cause (or null) and the SQLState of the store's error (or null), for a store
     * whose driver gives none itself (SQLite's) or a sink that is no database at all.
     *
     * @param message what failed, where and why
     * @param cause the underlying exception, or null
     * @param sqlState the SQLState, or null
     * @since 0.1
     */
    public AuditStoreException(String message, @Nullable Throwable cause, @Nullable String sqlState) {
        super(message, cause);
        this.sqlState = sqlState;
    }

    /**
     * The five-character SQLState of the store's error (the SQL standard's classes), or null if it has none.
     *
     * @return the SQLState, or null
     * @since 0.1
     */
    public @Nullable String sqlState() {
        return sqlState;
    }

    private static @Nullable String sqlStateOf(@Nullable Throwable cause) {
        int depth = 0;
        for (Throwable t = cause; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof AuditStoreException a && a.sqlState != null) {
                return a.sqlState;
            }
            if (t instanceof SQLException s && s.getSQLState() != null) {
                return s.getSQLState();
            }
        }
        return null;
    }
}
