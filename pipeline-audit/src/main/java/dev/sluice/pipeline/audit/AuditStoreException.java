package dev.sluice.pipeline.audit;

/**
 * An audit store could not take or give events: the database is down, refused a statement, or holds a table of
 * another shape. The message names the store, what was being done and why it failed; the cause is the underlying
 * exception (usually a {@link java.sql.SQLException}). An {@link AuditWriter} retries, then spills, on this
 * exception; code that writes to a sink directly decides for itself.
 */
public final class AuditStoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An exception with a message that names the store, the operation and the reason, and the cause (or null). */
    public AuditStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
