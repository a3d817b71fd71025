package dev.sluice.pipeline.audit;

import dev.sluice.pipeline.audit.internal.CompositeAuditSink;
import dev.sluice.pipeline.internal.check.Require;
import java.util.List;

/**
 * Where audit events end: a database table ({@link JdbcAuditSink}), a log ({@link Slf4jAuditSink}), memory
 * ({@link InMemoryAuditSink}), or several of them ({@link #composite}).
 *
 * <p>A sink's {@link #write} is synchronous and may block (a database round trip). Pipelines should not call it
 * themselves: an {@link AuditWriter} calls it from its own thread, in batches, and retries and spills when it
 * fails. Implementations must be thread-safe and <b>idempotent per event ID</b>: writing an event again, or a running
 * event after the finished event with the same ID, changes nothing; a finished event replaces the running event
 * with its ID. That is what makes retries and replays of a spill file exactly-once.
 *
 * @since 0.1
 */
public interface AuditSink extends AutoCloseable {

    /**
     * Stores the events, all or (as far as the store allows) none: a JDBC sink writes them in one transaction.
     * Blocks while it writes.
     *
     * @param events the events, in order; a later event with the same ID wins as the class comment says
     * @throws AuditStoreException if the store failed; the events may be written again later. A failure whose
     *     {@link AuditStoreException#sqlState() SQLState} is of class 22, 23 or 54 says the store refuses some of the
     *     events for good: an {@link AuditWriter} then writes the batch in parts to find them and sets them aside
     */
    void write(List<AuditEvent> events);

    /** Releases what the sink holds. An {@link AuditWriter} closes its sink when it closes. Default: nothing. */
    @Override
    default void close() {}

    /**
     * A sink that writes every batch to each of {@code sinks}, in order. Each sink gets the batch even when an earlier
     * one failed; then the first failure is thrown, the others attached as suppressed. A batch that an
     * {@link AuditWriter} retries therefore reaches the sinks that had taken it again, which the JDBC and in-memory
     * sinks shrug off (they are idempotent) but an SLF4J sink would log twice: the writer logs each event itself
     * (see {@link AuditWriter.Builder#logEvents}), so an SLF4J sink belongs in a composite only for direct use.
     * Closing the composite closes each sink.
     *
     * @param sinks the sinks, at least one
     * @return a sink that writes to each
     * @since 0.1
     * @throws IllegalArgumentException if no sink is given
     */
    static AuditSink composite(AuditSink... sinks) {
        Require.nonNull(sinks, "sinks");
        Require.argument(sinks.length > 0, "sinks", "name at least one sink", "none");
        for (int i = 0; i < sinks.length; i++) {
            Require.nonNull(sinks[i], "sinks[" + i + "]");
        }
        return new CompositeAuditSink(List.of(sinks));
    }
}
