package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Overflow;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;
import org.sqlite.SQLiteDataSource;

/**
 * The database fails for a while; afterwards every event is in the table exactly once, spilled and replayed events
 * included.
 */
@Timeout(60)
class AuditWriterOutageTest {

    @TempDir
    Path dir;

    private static AuditWriter.Builder writer(JdbcAuditSink sink, Path spill) {
        return AuditWriter.builder(sink)
                .logEvents(false)
                .batchSize(200)
                .spillFile(spill)
                .retry(2, Duration.ofMillis(10), Duration.ofMillis(100));
    }

    @Test
    void sqliteThatFailsForAWhileEndsWithEveryEventOnce() throws Exception {
        // given a writer on an SQLite file behind a DataSource that can fail
        SQLiteDataSource real = new SQLiteDataSource();
        real.setUrl("jdbc:sqlite:" + dir.resolve("outage.db"));
        FlakyDataSource flaky = new FlakyDataSource(real);
        JdbcAuditSink sink = JdbcAuditSink.forDataSource(flaky);
        Path spill = dir.resolve("outage.jsonl");
        AuditWriter writer = writer(sink, spill).build();

        // when producers submit before, during and after an outage
        Producers before = Producers.start(writer, 4, 375);
        before.join();
        await().atMost(Duration.ofSeconds(20)).until(() -> writer.report().written() == 1_500);
        flaky.down = true;
        Producers during = Producers.start(writer, 4, 750);
        await().atMost(Duration.ofSeconds(20)).until(() -> writer.report().spilled() >= 1_000);
        flaky.down = false; // back while the producers may still be at it
        during.join();
        Producers after = Producers.start(writer, 4, 375);
        after.join();
        AuditReport report = writer.close(Duration.ofSeconds(30));

        // then every event is in the table once, and the spill file was replayed and emptied
        assertThat(report.spilled()).isGreaterThanOrEqualTo(1_000);
        assertThat(report.replayed()).isEqualTo(report.spilled());
        assertThat(report.written() + report.spilled()).isEqualTo(6_000);
        assertThat(report.dropped()).isZero();
        assertThat(flaky.refused.get()).isPositive();
        assertEveryEventOnce(real, "audit_logs", before, during, after);
        assertThat(Files.size(spill)).isZero();
    }

    @Test
    void postgresReachedOnAWrongPortThenTheRightOneEndsWithEveryEventOnce() throws Exception {
        // given a DataSource whose port can be switched, first to one where nothing listens
        Postgres.ensureRunning();
        AtomicInteger port = new AtomicInteger(1);
        DataSource switching = new SwitchingDataSource(port);
        String table = Postgres.uniqueTable("outage_test");
        JdbcAuditSink sink = JdbcAuditSink.forDataSource(switching).withTable(table);
        Path spill = dir.resolve("pg-outage.jsonl");
        try {
            AuditWriter writer = writer(sink, spill).build();

            // when events arrive while PostgreSQL cannot be reached, and then it can
            Producers during = Producers.start(writer, 4, 500);
            during.join();
            await().atMost(Duration.ofSeconds(20)).until(() -> writer.report().spilled() == 2_000);
            port.set(Postgres.PORT);
            Producers after = Producers.start(writer, 4, 500);
            after.join();
            AuditReport report = writer.close(Duration.ofSeconds(30));

            // then all 4,000 are in the table once each (some of the later ones may have been spilled too, while the
            // writer waited to try the store again)
            assertThat(report.spilled()).isGreaterThanOrEqualTo(2_000);
            assertThat(report.replayed()).isEqualTo(report.spilled());
            assertThat(report.written() + report.spilled()).isEqualTo(4_000);
            assertThat(report.dropped()).isZero();
            assertEveryEventOnce(Postgres.dataSource(), table, during, after);
            assertThat(Files.size(spill)).isZero();
        } finally {
            Postgres.dropTable(Postgres.dataSource(), table);
        }
    }

    @Test
    void aCommitWhoseAcknowledgementIsLostIsRetriedWithoutDuplicates() throws Exception {
        // given PostgreSQL behind a DataSource that loses every other commit's acknowledgement
        FlakyDataSource flaky = new FlakyDataSource(Postgres.dataSource());
        flaky.loseEveryNthCommitAck = 2;
        String table = Postgres.uniqueTable("lost_ack_test");
        JdbcAuditSink sink = JdbcAuditSink.forDataSource(flaky).withTable(table);
        try {
            AuditWriter writer = writer(sink, dir.resolve("ack.jsonl")).build();

            // when events are written (every second batch is committed, then reported as failed, then retried)
            Producers producers = Producers.start(writer, 4, 500);
            producers.join();
            writer.close(Duration.ofSeconds(30));

            // then the retries wrote nothing twice
            assertThat(flaky.lostAcks.get()).isPositive();
            assertEveryEventOnce(Postgres.dataSource(), table, producers);
        } finally {
            Postgres.dropTable(Postgres.dataSource(), table);
        }
    }

    @Test
    void aBatchThatFailsHalfWayIsRolledBackAndWrittenOnceByTheRetry() throws Exception {
        SQLiteDataSource real = new SQLiteDataSource();
        real.setUrl("jdbc:sqlite:" + dir.resolve("halfway.db"));
        FlakyDataSource flaky = new FlakyDataSource(real);
        flaky.failEveryNthBatch = 3;
        AuditWriter writer = writer(JdbcAuditSink.forDataSource(flaky), dir.resolve("halfway.jsonl"))
                .build();

        Producers producers = Producers.start(writer, 4, 500);
        producers.join();
        writer.close(Duration.ofSeconds(30));

        assertThat(flaky.batches.get()).isGreaterThanOrEqualTo(3);
        assertEveryEventOnce(real, "audit_logs", producers);
    }

    @Test
    @Timeout(180)
    void postgresTakesALongReplayWhileASteadyStreamOfNewEventsLosesNone() throws Exception {
        FlakyDataSource flaky = FlakyDataSource.pooled(Postgres.dataSource());
        String table = Postgres.uniqueTable("long_replay_test");
        try {
            aLongReplayDropsNoneOfTheEventsThatKeepComing(
                    flaky, JdbcAuditSink.forDataSource(flaky).withTable(table), Postgres.dataSource(), table);
        } finally {
            Postgres.dropTable(Postgres.dataSource(), table);
        }
    }

    @Test
    @Timeout(180)
    void sqliteTakesALongReplayWhileASteadyStreamOfNewEventsLosesNone() throws Exception {
        SQLiteDataSource real = new SQLiteDataSource();
        real.setUrl("jdbc:sqlite:" + dir.resolve("long-replay.db"));
        FlakyDataSource flaky = FlakyDataSource.pooled(real);
        aLongReplayDropsNoneOfTheEventsThatKeepComing(flaky, JdbcAuditSink.forDataSource(flaky), real, "audit_logs");
    }

    /**
     * An outage spills tens of thousands of events; when the store is back, slow (every insert takes 15 ms, so the
     * replay takes seconds on any machine), new events keep coming at a steady rate into a queue far smaller than what
     * they add up to during the replay, under a policy that drops when the queue is full.
     */
    private void aLongReplayDropsNoneOfTheEventsThatKeepComing(
            FlakyDataSource flaky, JdbcAuditSink sink, DataSource reader, String table) throws Exception {
        // given a writer with a small queue that drops when full
        int capacity = 256;
        int spilledInOutage = 30_000;
        sink.createSchema();
        AuditWriter writer = AuditWriter.builder(sink)
                .logEvents(false)
                .queueCapacity(capacity)
                .batchSize(100)
                .whenFull(Overflow.DROP_NEWEST)
                .spillFile(dir.resolve("long-replay.jsonl"))
                .retry(2, Duration.ofMillis(10), Duration.ofMillis(100))
                .build();

        // when an outage spills 30,000 events (submitted only while the queue has room: none is dropped here)
        flaky.down = true;
        List<String> outage = new ArrayList<>(spilledInOutage);
        for (int i = 0; i < spilledInOutage; i++) {
            while (writer.report().pending() >= capacity) {
                LockSupport.parkNanos(100_000); // the producer waits for room, as a polite one would
            }
            AuditEvent e = Events.finished("outage", i);
            assertThat(writer.submit(e)).isTrue();
            outage.add(e.correlationId());
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> writer.report().spilled() == spilledInOutage);

        // and the store comes back, slow, while new events keep coming, one every 10 ms, through the whole replay
        flaky.slowInsertMillis = 15;
        flaky.down = false;
        SteadyStream stream = SteadyStream.start(writer, Duration.ofMillis(10));
        await().atMost(Duration.ofSeconds(120)).until(() -> {
            AuditReport r = writer.report();
            return r.replayed() >= spilledInOutage && r.replayed() == r.spilled();
        });
        long writtenWhileReplaying = writer.report().written();
        long streamedWhileReplaying = stream.submitted.get();
        stream.stopAndJoin();
        AuditReport report = writer.close(Duration.ofSeconds(30));

        // then no event was dropped: the stream was written while the replay ran, and every event is in the table once
        assertThat(stream.failures).isEmpty();
        assertThat(report.dropped()).isZero();
        assertThat(streamedWhileReplaying)
                .as("events that came during the replay")
                .isGreaterThan(capacity);
        assertThat(writtenWhileReplaying)
                .as("written directly during the replay")
                .isPositive();
        List<String> expected = new ArrayList<>(outage);
        expected.addAll(stream.correlationIds);
        assertThat(stored(reader, table)).hasSameSizeAs(expected).containsExactlyInAnyOrderElementsOf(expected);
    }

    /** A virtual thread that submits an event every {@code period} until stopped, catching up if it falls behind. */
    static final class SteadyStream {
        final ConcurrentLinkedQueue<String> correlationIds = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        final AtomicLong submitted = new AtomicLong();
        private volatile boolean stop;
        private Thread thread;

        static SteadyStream start(AuditWriter writer, Duration period) {
            SteadyStream s = new SteadyStream();
            s.thread = Thread.ofVirtual().start(() -> {
                try {
                    long next = System.nanoTime();
                    for (int i = 0; !s.stop; i++) {
                        AuditEvent e = Events.finished("stream", i);
                        if (!writer.submit(e)) {
                            throw new AssertionError("event " + e.correlationId() + " was dropped");
                        }
                        s.correlationIds.add(e.correlationId());
                        s.submitted.incrementAndGet();
                        next += period.toNanos();
                        LockSupport.parkNanos(next - System.nanoTime());
                    }
                } catch (Throwable t) {
                    s.failures.add(t);
                }
            });
            return s;
        }

        void stopAndJoin() throws InterruptedException {
            stop = true;
            if (!thread.join(Duration.ofSeconds(30))) {
                throw new AssertionError("the stream did not stop");
            }
        }
    }

    private static List<String> stored(DataSource ds, String table) throws SQLException {
        List<String> stored = new ArrayList<>();
        try (Connection c = ds.getConnection();
                var rs = c.createStatement().executeQuery("SELECT correlation_id FROM \"" + table + "\"")) {
            while (rs.next()) {
                stored.add(rs.getString(1));
            }
        }
        return stored;
    }

    private static void assertEveryEventOnce(DataSource ds, String table, Producers... producers) throws SQLException {
        List<String> expected = new ArrayList<>();
        for (Producers p : producers) {
            assertThat(p.failures).isEmpty();
            expected.addAll(p.correlationIds);
        }
        List<String> stored = new ArrayList<>();
        try (Connection c = ds.getConnection();
                var rs = c.createStatement().executeQuery("SELECT correlation_id FROM \"" + table + "\"")) {
            while (rs.next()) {
                stored.add(rs.getString(1));
            }
        }
        assertThat(stored).hasSameSizeAs(expected).containsExactlyInAnyOrderElementsOf(expected);
    }

    /** Virtual threads that each submit a run of numbered events, remembering their correlation IDs. */
    static final class Producers {
        private static final AtomicInteger GENERATION = new AtomicInteger();
        final ConcurrentLinkedQueue<String> correlationIds = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        private final List<Thread> threads = new ArrayList<>();

        static Producers start(AuditWriter writer, int threads, int each) {
            Producers p = new Producers();
            int generation = GENERATION.incrementAndGet();
            for (int t = 0; t < threads; t++) {
                String prefix = "g" + generation + "t" + t;
                p.threads.add(Thread.ofVirtual().start(() -> {
                    try {
                        for (int i = 0; i < each; i++) {
                            AuditEvent e = Events.finished(prefix, i);
                            if (!writer.submit(e)) {
                                throw new AssertionError("event " + e.correlationId() + " was not taken");
                            }
                            p.correlationIds.add(e.correlationId());
                        }
                    } catch (Throwable e) {
                        p.failures.add(e);
                    }
                }));
            }
            return p;
        }

        void join() throws InterruptedException {
            for (Thread t : threads) {
                if (!t.join(Duration.ofSeconds(30))) {
                    throw new AssertionError("producer " + t + " did not finish");
                }
            }
        }
    }

    /** The test database on whichever port {@code port} holds at the moment of each connection. */
    static final class SwitchingDataSource extends PGSimpleDataSource {
        private static final long serialVersionUID = 1L;
        private final transient AtomicInteger port;

        SwitchingDataSource(AtomicInteger port) {
            this.port = port;
        }

        @Override
        public Connection getConnection() throws SQLException {
            return Postgres.dataSource(port.get()).getConnection();
        }
    }
}
