package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.AuditReport;
import dev.sluice.pipeline.audit.AuditWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Benchmark 7: audit events into a store, through Sluice's asynchronous writer, one insert per event, or from a staging
 * table inside the store (its own ceiling). Every variant
 * checks that each event was stored (a report or an update count that says otherwise throws) and returns the number
 * of events written.
 */
final class AuditWrites {

    /** Far beyond a healthy wait here: 20,000 events take about a second. */
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(120);

    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private AuditWrites() {}

    /**
     * {@code n} finished gRPC-stream events, as {@code AuditEvent.streaming} makes them (a random UUID each), with a
     * little additional data. Made once, before measuring: what is measured is storing them, not making them.
     */
    static AuditEvent[] events(int n) {
        AuditEvent[] events = new AuditEvent[n];
        Instant start = Instant.parse("2025-01-01T00:00:00Z");
        for (int i = 0; i < n; i++) {
            events[i] = AuditEvent.streaming("sluice.items.v1.ItemService/StreamItems", "bench-" + new UUID(0x51CE, i))
                    .startedAt(start.plusMillis(i))
                    .duration(Duration.ofMillis(250))
                    .itemCount(1000 + i)
                    .additionalData(Map.of("client", "benchmark", "shard", i % 16))
                    .build();
        }
        return events;
    }

    /**
     * Starts a writer on {@code sink}'s store and waits until it has written {@code primer}, so that its connection is
     * open and its table checked: what follows measures a writer that runs, as one does for a service's lifetime.
     *
     * @param writeThreads the writer's threads ({@code AuditWriter.Builder.writeThreads}); the first invocation opens
     *     the connections of the second and later ones
     */
    static AuditWriter startedWriter(dev.sluice.pipeline.audit.AuditSink sink, AuditEvent primer, int writeThreads)
            throws InterruptedException {
        AuditWriter writer = AuditWriter.builder(sink)
                .logEvents(false)
                .writeThreads(writeThreads)
                .build();
        if (!writer.submit(primer)) {
            throw new IllegalStateException("the audit writer refused its first event: " + writer.report());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (writer.report().written() < 1) {
            if (System.nanoTime() - deadline > 0
                    || writer.report().dropped() + writer.report().spilled() > 0) {
                AuditReport r = writer.close(Duration.ZERO);
                throw new IllegalStateException("the audit writer did not write its first event within 60 s: " + r);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        return writer;
    }

    /**
     * Sluice's way: submits every event to the running {@code writer} from this thread and returns once the writer
     * reports them all written (committed). Submits wait while the writer's queue is full (its default), so this
     * measures the store's pace, batched, not the queue's. The writer stays open: {@link #closeAndCheck} closes it.
     *
     * @param alreadyWritten events the writer wrote before this call
     */
    static long throughWriter(AuditWriter writer, AuditEvent[] events, long alreadyWritten)
            throws InterruptedException {
        for (AuditEvent e : events) {
            if (!writer.submit(e)) {
                throw new IllegalStateException("the audit writer dropped an event: " + writer.report());
            }
        }
        long expected = alreadyWritten + events.length;
        long deadline = System.nanoTime() + CLOSE_TIMEOUT.toNanos();
        for (; ; ) {
            AuditReport r = writer.report();
            if (r.written() >= expected) {
                return Items.expect("events written by the audit writer", expected, r.written()) - alreadyWritten;
            }
            if (r.spilled() + r.dropped() > 0 || System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the audit writer should have written " + expected + " events, and"
                        + " spilled and dropped none"
                        + (r.spilled() + r.dropped() > 0 ? "" : " within " + CLOSE_TIMEOUT.toSeconds() + " s") + ": "
                        + r);
            }
            // A millisecond against the writer's ~25 ms per batch of 500: the wait ends at most that late.
            LockSupport.parkNanos(POLL_NANOS);
        }
    }

    /**
     * Closes {@code writer} and checks its report: {@code expected} events written, none spilled, dropped or left
     * pending.
     */
    static AuditReport closeAndCheck(AuditWriter writer, long expected) {
        AuditReport r = writer.close(CLOSE_TIMEOUT);
        if (r.written() != expected || r.spilled() != 0 || r.dropped() != 0 || r.pending() != 0) {
            throw new IllegalStateException("the audit writer should have written " + expected + " events, and"
                    + " spilled, dropped and left pending none: " + r);
        }
        return r;
    }

    /**
     * What the seed's library does: one parameterised INSERT per event, on one connection in autocommit (so one
     * transaction, one round trip and one commit per event), on the calling thread.
     *
     * @param insert {@link AuditStore#insertSql} prepared on a connection in autocommit
     */
    static long oneInsertPerEvent(AuditStore store, PreparedStatement insert, AuditEvent[] events) throws SQLException {
        for (AuditEvent e : events) {
            store.bind(insert, 1, e);
            int rows = insert.executeUpdate();
            if (rows != 1) {
                throw new IllegalStateException("an insert of event " + e.eventId() + " stored " + rows + " rows");
            }
        }
        return events.length;
    }

    /**
     * What a careful hand-written loop does, the writer's peer: {@code events} in transactions of {@code batch} rows,
     * each one statement of that many rows with the writer's conflict clause ({@link AuditStore#batchInsertSql}),
     * bound and committed on the calling thread. Same rows, statements and commits as the writer's; no queue, no
     * thread hand-off, no retry.
     *
     * @param insert {@link AuditStore#batchInsertSql} of {@code batch} rows, prepared on a connection whose autocommit
     *     is off; {@code events.length} must be a multiple of {@code batch}
     */
    static long handWrittenBatches(AuditStore store, PreparedStatement insert, AuditEvent[] events, int batch)
            throws SQLException {
        if (batch < 1 || events.length % batch != 0) {
            throw new IllegalArgumentException(
                    "events.length must be a multiple of batch (at least 1), got " + events.length + " and " + batch);
        }
        Connection c = insert.getConnection();
        for (int from = 0; from < events.length; from += batch) {
            for (int i = 0; i < batch; i++) {
                store.bind(insert, 1 + AuditStore.PARAMETERS_PER_ROW * i, events[from + i]);
            }
            Items.expect("rows stored by one batch insert", batch, insert.executeUpdate());
            c.commit();
        }
        return events.length;
    }

    /**
     * Creates {@code staging} ({@link AuditStore#stagingTableSql}) on {@code c} and fills it with {@code events}, bound
     * as the one-insert baseline binds them ({@link AuditStore#bind}: the JSON is {@code toJson()}'s text, the
     * document the writer stores), in one transaction. Setup, not measured.
     */
    static void stage(AuditStore store, Connection c, String staging, AuditEvent[] events) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(store.stagingTableSql(staging));
        }
        c.setAutoCommit(false);
        try (PreparedStatement insert = c.prepareStatement(store.stagingInsertSql(staging))) {
            for (AuditEvent e : events) {
                store.bind(insert, 1, e);
                insert.addBatch();
            }
            insert.executeBatch();
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
        Items.expect("rows in " + staging, events.length, AuditStore.count(c, staging));
    }

    /**
     * The store's own ceiling: every row of the staging table into the audit table by one {@code INSERT ... SELECT}
     * with the writer's conflict clause ({@link AuditStore#ceilingSql}), in autocommit, so in a transaction of its
     * own, committed when this returns.
     *
     * @param ceiling {@link AuditStore#ceilingSql} prepared on the connection that made the staging table, in
     *     autocommit
     * @param expected the staging table's rows; an update count that differs throws
     */
    static long serverCeiling(PreparedStatement ceiling, int expected) throws SQLException {
        return Items.expect("rows moved by the INSERT ... SELECT", expected, ceiling.executeUpdate());
    }
}
