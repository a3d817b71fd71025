package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteDataSource;

/**
 * 100,000 events from 16 concurrent producers through the asynchronous writer into a real store: all present, none
 * duplicated. Prints the throughput (the events per second from the first submit until close() returned).
 */
@Timeout(120)
class AuditWriterLoadTest {
    static final int PRODUCERS = 16;
    static final int PER_PRODUCER = 6_250;
    static final int TOTAL = PRODUCERS * PER_PRODUCER;

    @TempDir
    Path dir;

    @Test
    void sqliteTakesAHundredThousandEventsFromSixteenProducersExactlyOnce() throws Exception {
        SQLiteDataSource ds = new SQLiteDataSource();
        ds.setUrl("jdbc:sqlite:" + dir.resolve("load.db"));

        run("SQLite", JdbcAuditSink.sqlite(dir.resolve("load.db")), ds);
    }

    @Test
    void postgresTakesAHundredThousandEventsFromSixteenProducersExactlyOnce() throws Exception {
        DataSource ds = Postgres.dataSource();
        String table = Postgres.uniqueTable("load_test");
        try {
            run("PostgreSQL", JdbcAuditSink.forUrl(Postgres.jdbcUrl()).withTable(table), ds);
        } finally {
            Postgres.dropTable(ds, table);
        }
    }

    private static void run(String store, JdbcAuditSink sink, DataSource ds) throws Exception {
        // given a writer on a store whose table exists (as it would at start-up)
        String table = sink.table();
        sink.createSchema();
        java.util.concurrent.atomic.AtomicLong batches = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong writeNanos = new java.util.concurrent.atomic.AtomicLong();
        AuditSink counting = events -> {
            long t0 = System.nanoTime();
            sink.write(events);
            writeNanos.addAndGet(System.nanoTime() - t0);
            batches.incrementAndGet();
        };
        AuditWriter writer = AuditWriter.builder(counting).logEvents(false).build();

        // when 16 producers submit 6,250 events each
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> producers = new ArrayList<>();
        for (int p = 0; p < PRODUCERS; p++) {
            String prefix = "p" + p;
            producers.add(Thread.ofVirtual().name("producer-" + p).start(() -> {
                try {
                    go.await();
                    for (int i = 0; i < PER_PRODUCER; i++) {
                        if (!writer.submit(Events.finished(prefix, i))) {
                            throw new AssertionError("event " + prefix + "-" + i + " was not taken");
                        }
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        long start = System.nanoTime();
        go.countDown();
        for (Thread t : producers) {
            t.join(Duration.ofSeconds(100));
        }
        AuditReport report = writer.close(Duration.ofSeconds(60));
        double seconds = (System.nanoTime() - start) / 1e9;

        // then all of them are in the table, once each
        assertThat(failures).isEmpty();
        assertThat(report).isEqualTo(new AuditReport(TOTAL, TOTAL, 0, 0, 0, 0, 0));
        assertThat(query(ds, "SELECT count(*) FROM \"" + table + "\"")).isEqualTo(TOTAL);
        assertThat(query(ds, "SELECT count(DISTINCT event_id) FROM \"" + table + "\""))
                .isEqualTo(TOTAL);
        assertThat(query(ds, "SELECT count(DISTINCT correlation_id) FROM \"" + table + "\""))
                .isEqualTo(TOTAL);
        System.out.printf(
                "audit writer load, %s: %,d events from %d producers in %.2f s = %,.0f events/s "
                        + "(%d batches, %.1f s in the store)%n",
                store, TOTAL, PRODUCERS, seconds, TOTAL / seconds, batches.get(), writeNanos.get() / 1e9);
    }

    static long query(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
