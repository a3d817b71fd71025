package dev.sluice.pipeline.audit;

import java.time.Instant;
import java.util.List;

/**
 * Reads the audit trail back. Implemented by the stores that keep events: {@link JdbcAuditSink} and
 * {@link InMemoryAuditSink}. Thread-safe; the JDBC implementation blocks on the database.
 *
 * <p>Results hold one event per event ID, in the order of {@code startedAt} (then of writing), and show a long run
 * as running until its finished event has been written.
 *
 * @since 0.1
 */
public interface AuditLookup {

    /**
     * The events with this correlation ID.
     *
     * @param correlationId the correlation ID, matched exactly
     * @return the events, oldest first; empty if none
     * @since 0.1
     * @throws AuditStoreException if the store cannot be read
     */
    List<AuditEvent> findByCorrelationId(String correlationId);

    /**
     * At most {@code limit} events of this type that started in {@code [from, to)}, oldest first.
     *
     * @param eventType the event type, matched exactly
     * @param from the earliest start time, included
     * @param to the start time where the range ends, excluded
     * @param limit the most events returned, at least 1
     * @return the events, oldest first
     * @since 0.1
     * @throws IllegalArgumentException if {@code to} is before {@code from} or {@code limit < 1}
     * @throws AuditStoreException if the store cannot be read
     */
    List<AuditEvent> findByType(String eventType, Instant from, Instant to, int limit);
}
