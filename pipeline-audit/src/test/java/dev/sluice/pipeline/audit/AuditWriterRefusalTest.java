package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.pipeline.audit.internal.Delivery;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteDataSource;

/**
 * A store that refuses some events for good (a real CHECK constraint or trigger, the database up throughout) never
 * stops the audit trail: the refused events are set aside in the dead-letter file, the events around them reach the
 * table, and a spill file holding such events replays past them.
 */
@Timeout(120)
class AuditWriterRefusalTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** A table of a real database that refuses events whose correlation ID starts with {@link Refusing#PREFIX}. */
    private record Store(DataSource ds, String table, JdbcAuditSink sink, String refusalSqlState) {}

    private Store sqlite() throws SQLException {
        SQLiteDataSource ds = new SQLiteDataSource();
        ds.setUrl("jdbc:sqlite:" + dir.resolve("audit.db"));
        JdbcAuditSink sink = JdbcAuditSink.sqlite(dir.resolve("audit.db"));
        sink.createSchema();
        Refusing.sqliteTrigger(ds, JdbcAuditSink.DEFAULT_TABLE);
        return new Store(ds, JdbcAuditSink.DEFAULT_TABLE, sink, "23000");
    }

    private Store postgres() throws SQLException {
        DataSource ds = Postgres.dataSource();
        String table = Postgres.uniqueTable("refusal_test");
        JdbcAuditSink sink = JdbcAuditSink.forDataSource(ds).withTable(table);
        sink.createSchema();
        Refusing.postgresCheck(ds, table);
        return new Store(ds, table, sink, "23514");
    }

    private static AuditWriter.Builder writer(AuditSink sink, Path spill) {
        return AuditWriter.builder(sink)
                .logEvents(false)
                .batchSize(100)
                .spillFile(spill)
                .retry(2, Duration.ofMillis(10), Duration.ofMillis(100));
    }

    @Test
    void sqliteSetsARefusedEventAsideAndWritesTheEventsAroundIt() throws Exception {
        refusedEventsAreSetAsideAndTheEventsAroundThemWritten(sqlite());
    }

    @Test
    void postgresSetsARefusedEventAsideAndWritesTheEventsAroundIt() throws Exception {
        Store store = postgres();
        try {
            refusedEventsAreSetAsideAndTheEventsAroundThemWritten(store);
        } finally {
            Postgres.dropTable(store.ds(), store.table());
        }
    }

    private void refusedEventsAreSetAsideAndTheEventsAroundThemWritten(Store store) throws Exception {
        // given a writer on a table that refuses "poison" events
        Path spill = dir.resolve("audit-spill.jsonl");
        List<AuditEvent> good = new ArrayList<>();
        List<AuditEvent> poison = new ArrayList<>();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (LogCapture logs = LogCapture.of(AuditWriter.class)) {
            AuditWriter writer =
                    writer(store.sink(), spill).meterRegistry(registry).build();

            // when events are submitted with refused ones first, in the middle and last
            for (int i = 0; i < 300; i++) {
                AuditEvent e = i == 0 || i == 150 || i == 299
                        ? Events.finished(Refusing.PREFIX, i)
                        : Events.finished("good", i);
                (e.correlationId().startsWith(Refusing.PREFIX) ? poison : good).add(e);
                assertThat(writer.submit(e)).isTrue();
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> writer.report().deadLettered() == 3);
            assertThat(registry.get("sluice.audit.events")
                            .tag("outcome", "dead-lettered")
                            .functionCounter()
                            .count())
                    .isEqualTo(3);
            AuditReport report = writer.close(Duration.ofSeconds(30));

            // then every other event is in the table, the refused ones are in the dead-letter file, each with a WARN
            assertThat(storedCorrelationIds(store)).containsExactlyInAnyOrderElementsOf(correlationIds(good));
            assertThat(report.written() + report.replayed()).isEqualTo(297);
            assertThat(report.spilled())
                    .as("refused events pass through the spill file")
                    .isEqualTo(3);
            assertThat(report.deadLettered()).isEqualTo(3);
            assertThat(report.dropped()).isZero();
            assertDeadLetters(spill, poison, store.refusalSqlState());
            assertThat(Files.size(spill)).isZero();
            assertThat(logs.events())
                    .filteredOn(e -> e.getLevel() == Level.WARN
                            && e.getFormattedMessage().contains("refuses event"))
                    .hasSize(3);
        }
    }

    @Test
    void sqliteReplaysASpillFileHoldingRefusedEventsPastThem() throws Exception {
        aSpillFileHoldingRefusedEventsIsReplayedPastThemOnceEvenAfterARestart(sqlite());
    }

    @Test
    void postgresReplaysASpillFileHoldingRefusedEventsPastThem() throws Exception {
        Store store = postgres();
        try {
            aSpillFileHoldingRefusedEventsIsReplayedPastThemOnceEvenAfterARestart(store);
        } finally {
            Postgres.dropTable(store.ds(), store.table());
        }
    }

    private void aSpillFileHoldingRefusedEventsIsReplayedPastThemOnceEvenAfterARestart(Store store) throws Exception {
        // given a spill file left by an earlier writer, with refused events first (the replay's probe), in the first
        // batch, in the middle and last
        Path spill = dir.resolve("left.jsonl");
        List<AuditEvent> good = new ArrayList<>();
        List<AuditEvent> poison = new ArrayList<>();
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            AuditEvent e = i == 0 || i == 1 || i == 500 || i == 999
                    ? Events.finished(Refusing.PREFIX, i)
                    : Events.finished("spilled", i);
            (e.correlationId().startsWith(Refusing.PREFIX) ? poison : good).add(e);
            lines.append(e.toJson()).append('\n');
        }
        Files.writeString(spill, lines, StandardCharsets.UTF_8);

        // when a writer starts on it, and new events come after
        AuditWriter writer = writer(store.sink(), spill).build();
        await().atMost(Duration.ofSeconds(60)).until(() -> writer.report().replayed() == 996);
        List<AuditEvent> later = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            later.add(Events.finished("later", i));
            writer.submit(later.get(i));
        }
        AuditReport report = writer.close(Duration.ofSeconds(30));

        // then the replay went past every refused event, which is set aside once
        assertThat(report.deadLettered()).isEqualTo(4);
        assertThat(report.written()).isEqualTo(50);
        assertThat(report.dropped()).isZero();
        List<AuditEvent> expected = new ArrayList<>(good);
        expected.addAll(later);
        assertThat(storedCorrelationIds(store)).containsExactlyInAnyOrderElementsOf(correlationIds(expected));
        assertDeadLetters(spill, poison, store.refusalSqlState());

        // and a restart finds nothing left to replay, and sets nothing aside again
        AuditWriter next = writer(JdbcAuditSink.forDataSource(store.ds()).withTable(store.table()), spill)
                .build();
        AuditReport nextReport = next.close(Duration.ofSeconds(30));
        assertThat(nextReport.replayed()).isZero();
        assertThat(nextReport.deadLettered()).isZero();
        assertDeadLetters(spill, poison, store.refusalSqlState());
    }

    @Test
    void withoutASpillFileARefusedEventIsDroppedWithItsJsonAndTheEventsAroundItAreWritten() throws Exception {
        Store store = sqlite();
        AuditEvent refused = Events.finished(Refusing.PREFIX, 7);
        try (LogCapture logs = LogCapture.of(AuditWriter.class)) {
            AuditWriter writer = AuditWriter.builder(store.sink())
                    .logEvents(false)
                    .retry(2, Duration.ofMillis(10), Duration.ofMillis(100))
                    .build();
            List<AuditEvent> good = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                good.add(Events.finished("good", i));
            }
            good.subList(0, 10).forEach(e -> submit(writer, e));
            submit(writer, refused);
            good.subList(10, 20).forEach(e -> submit(writer, e));

            AuditReport report = writer.close(Duration.ofSeconds(30));

            assertThat(report.written()).isEqualTo(20);
            assertThat(report.dropped()).isEqualTo(1);
            assertThat(storedCorrelationIds(store)).containsExactlyInAnyOrderElementsOf(correlationIds(good));
            assertThat(logs.messages()).contains("lost audit event: " + refused.toJson());
            assertThat(logs.messages())
                    .anyMatch(m -> m.contains("the audit store refuses it for good (SQLState 23000"));
        }
    }

    @Test
    void aDroppedTableRefusesEveryEventAlikeSoEventsAreSpilledAndReplayedOnceItIsBack() throws Exception {
        // given a writer whose PostgreSQL table is dropped under it (SQLState 42P01: an operator's to fix)
        DataSource ds = Postgres.dataSource();
        String table = Postgres.uniqueTable("dropped_test");
        JdbcAuditSink sink = JdbcAuditSink.forDataSource(ds).withTable(table);
        sink.createSchema();
        Path spill = dir.resolve("dropped.jsonl");
        try {
            AuditWriter writer = writer(sink, spill).build();
            Postgres.dropTable(ds, table);

            // when events arrive, and then the table is back
            List<AuditEvent> events = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                events.add(Events.finished("dropped", i));
                writer.submit(events.get(i));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> writer.report().spilled() == 200);
            JdbcAuditSink.forDataSource(ds).withTable(table).createSchema();
            await().atMost(Duration.ofSeconds(30)).until(() -> writer.report().replayed() == 200);
            AuditReport report = writer.close(Duration.ofSeconds(30));

            // then nothing was set aside: every event is in the table
            assertThat(report.deadLettered()).isZero();
            assertThat(Files.exists(dir.resolve("dropped.dead-letters.jsonl"))).isFalse();
            assertThat(storedCorrelationIds(new Store(ds, table, sink, null)))
                    .containsExactlyInAnyOrderElementsOf(correlationIds(events));
        } finally {
            Postgres.dropTable(ds, table);
        }
    }

    @Test
    void theSqlStateClassTellsARefusalFromAFailure() {
        for (String refusal : List.of("22001", "22008", "23000", "23502", "23514", "54000")) {
            assertThat(Delivery.refused(new AuditStoreException("x", null, refusal)))
                    .as(refusal)
                    .isTrue();
        }
        for (String failure :
                List.of("08001", "08006", "40001", "40P01", "53100", "57014", "57P01", "42P01", "25006")) {
            assertThat(Delivery.refused(new AuditStoreException("x", null, failure)))
                    .as(failure)
                    .isFalse();
        }
        assertThat(Delivery.refused(new AuditStoreException("no state", null))).isFalse();
        assertThat(Delivery.refused(new AuditStoreException("wrapped", new SQLException("check", "23514"))))
                .isTrue();
    }

    private static void submit(AuditWriter writer, AuditEvent e) {
        try {
            assertThat(writer.submit(e)).isTrue();
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new AssertionError(ex);
        }
    }

    /** The dead-letter file holds exactly these events, each with the store's SQLState and its message. */
    private static void assertDeadLetters(Path spill, List<AuditEvent> expected, String sqlState) throws IOException {
        Path file = spill.resolveSibling(spill.getFileName().toString().replace(".jsonl", "") + ".dead-letters.jsonl");
        List<AuditEvent> events = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            JsonNode record = JSON.readTree(line);
            assertThat(record.get("sqlState").asText()).isEqualTo(sqlState);
            assertThat(record.get("reason").asText()).contains("poison");
            assertThat(record.get("deadLetteredAt").asText()).isNotBlank();
            events.add(AuditEvent.fromJson(record.get("event").toString()));
        }
        assertThat(events).containsExactlyInAnyOrderElementsOf(expected);
    }

    private static List<String> correlationIds(List<AuditEvent> events) {
        return events.stream().map(AuditEvent::correlationId).toList();
    }

    private static List<String> storedCorrelationIds(Store store) throws SQLException {
        List<String> stored = new ArrayList<>();
        try (Connection c = store.ds().getConnection();
                Statement s = c.createStatement();
                var rs = s.executeQuery("SELECT correlation_id FROM \"" + store.table() + "\"")) {
            while (rs.next()) {
                stored.add(rs.getString(1));
            }
        }
        return stored;
    }
}
