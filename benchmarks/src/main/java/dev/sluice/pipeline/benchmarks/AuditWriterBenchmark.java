package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.AuditWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Benchmark 7: audit events stored in PostgreSQL and SQLite. Score: <b>events per second</b> (throughput mode, unlike
 * the other benchmarks), from the first event handed over until the last is committed.
 *
 * <ul>
 *   <li>{@code asyncWriter}: {@value #WRITER_EVENTS} events submitted from one thread to an {@link AuditWriter}
 *       (default options: a queue of 10,000, batches of up to 500 in one transaction each), with one writer thread
 *       (the default) or two ({@code writeThreads}: two batches written at once, each on a connection of the sink's);
 *       the invocation ends when the writer reports them all written. One writer serves the whole fork, as one
 *       serves a service for its lifetime: started before the first invocation, closed (and its report checked) after
 *       the last, outside the score.</li>
 *   <li>{@code serverCeiling}: the store's own ceiling for the same rows. The same {@value #WRITER_EVENTS} events,
 *       bound as the baseline binds them (the JSON as {@code toJson()}'s text, the document the writer stores), are
 *       put in a staging table before the first invocation, outside the score (on PostgreSQL an unlogged
 *       table); each invocation moves them all into the audit table by one {@code INSERT ... SELECT} that
 *       carries the writer's {@code ON CONFLICT (event_id) DO UPDATE} clause and, on PostgreSQL, parses the text into
 *       {@code jsonb} as the writer's inserts do, in autocommit, so in one transaction that is committed before the
 *       invocation ends. No client sends a row: what is left is the store's own cost per row (heap, indexes, JSON,
 *       WAL, one commit), the most any writer that sends inserts can reach. SQLite is measured the same way, in the
 *       same file: it has no server, but the question is the same (how close does the writer come to the engine
 *       storing the rows with no statement per batch), and the figure costs one short fork; only PostgreSQL's share
 *       is a target.</li>
 *   <li>{@code handWrittenBatches}: the writer's peer, what a careful team writes by hand: the same
 *       {@value #WRITER_EVENTS} events in transactions of 500, each one insert of 500 rows with the writer's
 *       {@code ON CONFLICT} clause, prepared once and bound and committed on the benchmark thread, on one connection
 *       held for the fork. The writer's statements and commits, without its queue, thread or retries. Shown, not
 *       judged: it tells what the writer costs over the statements it sends.</li>
 *   <li>{@code oneInsertPerEvent}: {@value #SINGLE_EVENTS} events, one parameterised INSERT each on one connection in
 *       autocommit, on the benchmark thread: what the seed's library does. Fewer events only because each costs a
 *       commit: the score is a rate either way.</li>
 * </ul>
 * All four write the same events (built before measuring) into tables of the same columns and indexes (the audit
 * table's, made by {@code JdbcAuditSink.createSchema()}); the writer's inserts, the hand-written ones and the ceiling's carry the
 * writer's {@code ON CONFLICT} clause, the baseline's are plain. After each invocation the rows are counted on a connection of
 * the benchmark's own (a wrong count fails the run) and the table emptied, so every invocation starts on an empty
 * table. The target: on PostgreSQL the rate of the writer with two writer threads is at least 0.8 of the ceiling's,
 * measured in the same run; the one-thread writer's share is shown beside it. The
 * report also shows the writer's rate over the baseline's, not judged: the baseline pays a commit per event, so that
 * ratio follows the disk's commit latency more than the writer.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
// SQLite's driver loads its native library: allowed up front, instead of a warning in every fork's log.
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class AuditWriterBenchmark {

    static final int WRITER_EVENTS = 20_000;
    static final int SINGLE_EVENTS = 2_000;

    @Param({"postgresql", "sqlite"})
    public String store;

    AuditStore auditStore;
    Path dir;
    AuditEvent[] events;
    AuditEvent[] singleEvents;
    AuditEvent primer;
    /** Open for the whole fork: counts and empties the tables, and creates and drops them. */
    Connection observer;

    @Setup
    public void setUp() throws SQLException {
        auditStore = AuditStore.of(store);
        dir = AuditStore.newDirectory();
        events = AuditWrites.events(WRITER_EVENTS);
        singleEvents = java.util.Arrays.copyOf(events, SINGLE_EVENTS);
        primer = AuditWrites.events(1)[0];
        observer = auditStore.connect(dir);
    }

    @TearDown
    public void tearDown() throws SQLException {
        observer.close();
        AuditStore.deleteDirectory(dir);
    }

    /** A table of the benchmark's own, counted and emptied after each invocation, dropped at the end. */
    abstract static class Table {
        String table;
        long expectedRows;

        void create(AuditWriterBenchmark b, String prefix) {
            table = AuditStore.uniqueTable(prefix);
            b.auditStore.createTable(b.dir, table);
        }

        /** After each invocation of every subclass's benchmark: the rows counted, then the table emptied. */
        @TearDown(Level.Invocation)
        public void checkAndClear(AuditWriterBenchmark b) throws SQLException {
            long rows = AuditStore.count(b.observer, table);
            Items.expect("rows in " + table, expectedRows, rows);
            b.auditStore.clear(b.observer, table);
        }

        void drop(AuditWriterBenchmark b) throws SQLException {
            AuditStore.drop(b.observer, table);
        }
    }

    /**
     * One writer for the whole fork, as a service keeps one for its lifetime: started (its connection open, its table
     * checked) and its first event written before the first invocation, closed and its report checked after the last.
     */
    @State(Scope.Thread)
    public static class RunningWriter extends Table {
        /** The writer's threads ({@code AuditWriter.Builder.writeThreads}): 1, the default, or 2. */
        @Param({"1", "2"})
        public int writeThreads;

        AuditWriter writer;
        long written;

        @Setup(Level.Trial)
        public void start(AuditWriterBenchmark b) throws InterruptedException, SQLException {
            create(b, "bench_audit_writer");
            writer = AuditWrites.startedWriter(b.auditStore.sink(b.dir, table), b.primer, writeThreads);
            written = 1;
            b.auditStore.clear(b.observer, table); // every invocation starts on an empty table
            expectedRows = WRITER_EVENTS;
        }

        @TearDown(Level.Trial)
        public void close(AuditWriterBenchmark b) throws SQLException {
            AuditWrites.closeAndCheck(writer, written);
            drop(b);
        }
    }

    /**
     * One connection and an insert prepared on it, for the whole fork; after the last invocation both are closed
     * (whichever close fails) and the table dropped.
     */
    abstract static class PreparedInsert extends Table {
        Connection connection;
        PreparedStatement insert;

        /**
         * Creates the table ({@code prefix} and a random suffix) that {@code rows} rows are expected in after each
         * invocation, connects with {@code autoCommit}, and prepares the statement {@code sql} gives for the table.
         */
        void prepare(AuditWriterBenchmark b, String prefix, long rows, boolean autoCommit, UnaryOperator<String> sql)
                throws SQLException {
            create(b, prefix);
            expectedRows = rows;
            connection = b.auditStore.connect(b.dir);
            connection.setAutoCommit(autoCommit);
            insert = connection.prepareStatement(sql.apply(table));
        }

        @TearDown(Level.Trial)
        public void close(AuditWriterBenchmark b) throws SQLException {
            try (Connection c = connection;
                    PreparedStatement ps = insert) {
                // both closed, the statement first, whichever close fails
            } finally {
                drop(b);
            }
        }
    }

    /** One connection in autocommit and the one-row insert prepared on it, for the whole fork. */
    @State(Scope.Thread)
    public static class SingleInserts extends PreparedInsert {
        @Setup(Level.Trial)
        public void open(AuditWriterBenchmark b) throws SQLException {
            prepare(b, "bench_audit_single", SINGLE_EVENTS, true, b.auditStore::insertSql);
        }
    }

    /** One connection with autocommit off and the batch insert prepared on it, for the whole fork. */
    @State(Scope.Thread)
    public static class HandWritten extends PreparedInsert {
        @Setup(Level.Trial)
        public void open(AuditWriterBenchmark b) throws SQLException {
            prepare(
                    b,
                    "bench_audit_hand",
                    WRITER_EVENTS,
                    false,
                    table -> b.auditStore.batchInsertSql(table, AuditWriter.Builder.DEFAULT_BATCH_SIZE));
        }
    }

    /**
     * The ceiling's staging table, filled with the benchmark's events before the first invocation, and the
     * {@code INSERT ... SELECT} prepared on the connection that made it, in autocommit, for the whole fork.
     */
    @State(Scope.Thread)
    public static class ServerCeiling extends Table {
        Connection connection;
        String staging;
        PreparedStatement ceiling;

        @Setup(Level.Trial)
        public void stage(AuditWriterBenchmark b) throws SQLException {
            create(b, "bench_audit_ceiling");
            expectedRows = WRITER_EVENTS;
            staging = AuditStore.uniqueTable("bench_audit_staging");
            connection = b.auditStore.connect(b.dir);
            AuditWrites.stage(b.auditStore, connection, staging, b.events);
            ceiling = connection.prepareStatement(b.auditStore.ceilingSql(table, staging));
        }

        @TearDown(Level.Trial)
        public void close(AuditWriterBenchmark b) throws SQLException {
            ceiling.close();
            AuditStore.drop(connection, staging);
            connection.close();
            drop(b);
        }
    }

    /** Sluice's {@link AuditWriter}: submit {@value #WRITER_EVENTS} events until all are written; events per second. */
    @Benchmark
    @OperationsPerInvocation(WRITER_EVENTS)
    public long asyncWriter(RunningWriter w) throws InterruptedException {
        long n = AuditWrites.throughWriter(w.writer, events, w.written);
        w.written += n;
        return n;
    }

    /**
     * The store's own ceiling: the same {@value #WRITER_EVENTS} rows from the staging table by one
     * {@code INSERT ... SELECT} in its own transaction; events per second.
     */
    @Benchmark
    @OperationsPerInvocation(WRITER_EVENTS)
    public long serverCeiling(ServerCeiling c) throws SQLException {
        return AuditWrites.serverCeiling(c.ceiling, WRITER_EVENTS);
    }

    /**
     * The writer's peer, a hand-written loop: the same {@value #WRITER_EVENTS} events as transactions of 500 rows, one
     * batch insert each, on the benchmark thread; events per second.
     */
    @Benchmark
    @OperationsPerInvocation(WRITER_EVENTS)
    public long handWrittenBatches(HandWritten h) throws SQLException {
        return AuditWrites.handWrittenBatches(auditStore, h.insert, events, AuditWriter.Builder.DEFAULT_BATCH_SIZE);
    }

    /** One INSERT per event in autocommit, {@value #SINGLE_EVENTS} events; events per second. */
    @Benchmark
    @OperationsPerInvocation(SINGLE_EVENTS)
    public long oneInsertPerEvent(SingleInserts s) throws SQLException {
        return AuditWrites.oneInsertPerEvent(auditStore, s.insert, singleEvents);
    }
}
