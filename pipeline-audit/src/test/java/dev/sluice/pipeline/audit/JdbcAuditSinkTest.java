package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What every JDBC store must do, run against each real database ({@link JdbcStore}), each test on a table of its own.
 * What is particular to one database is in its own test class.
 */
@Timeout(60)
@ParameterizedClass(name = "{0}")
@EnumSource(JdbcStore.class)
class JdbcAuditSinkTest {

    private final JdbcStore store;

    @TempDir
    Path dir;

    private DataSource dataSource;
    private String table;

    JdbcAuditSinkTest(JdbcStore store) {
        this.store = store;
    }

    @BeforeEach
    void connect() {
        dataSource = store.dataSource(dir);
        table = Postgres.uniqueTable("sink_test");
    }

    @AfterEach
    void dropTable() throws SQLException {
        store.dropTable(dataSource, table);
    }

    DataSource dataSource() {
        return dataSource;
    }

    String table() {
        return table;
    }

    /** The table's name in the store's quotes, for a test's own SQL. */
    String quoted() {
        return store.quote(table);
    }

    JdbcAuditSink sink() {
        return JdbcAuditSink.forDataSource(dataSource()).withTable(table());
    }

    long count(String sqlAfterFrom, Object... params) throws SQLException {
        try (Connection c = dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + quoted() + " " + sqlAfterFrom)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    List<String> strings(String sql, Object... params) throws SQLException {
        try (Connection c = dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    /** Makes the table refuse events whose correlation ID starts with {@link Refusing#PREFIX}, as a real table may. */
    void refusePoison() throws SQLException {
        store.refusePoison(dataSource, table);
    }

    /** The SQLState this store's refusal carries. */
    String refusalSqlState() {
        return store.refusalSqlState();
    }

    @Test
    void theLargestNamesAndBothEndsOfTheTimeRangeAreStored() {
        // given an event at every limit AuditEvent allows: names of 512 bytes of characters that do not compress (an
        // index holds them as they are), and times at both ends of the range
        java.util.Random random = new java.util.Random(42);
        StringBuilder chinese = new StringBuilder();
        for (int i = 0; i < 170; i++) {
            chinese.append((char) (0x4E00 + random.nextInt(20_000))); // three bytes each in UTF-8
        }
        String correlationId = chinese + "ab";
        AuditEvent widest = new AuditEvent(
                UUID.randomUUID(),
                chinese.reverse() + "cd",
                "m".repeat(AuditEvent.MAX_NAME_BYTES),
                correlationId,
                AuditEvent.EARLIEST_TIME,
                AuditEvent.LATEST_TIME,
                Long.MAX_VALUE,
                Long.MAX_VALUE,
                Double.MAX_VALUE,
                true,
                "🚀".repeat(AuditEvent.MAX_NAME_BYTES / 4),
                null,
                Integer.MAX_VALUE,
                Integer.MAX_VALUE,
                null);
        AuditEvent latest = AuditEvent.started("late", "m", "late-" + UUID.randomUUID(), AuditEvent.LATEST_TIME, null);

        // when they are written
        sink().write(List.of(widest, latest));

        // then they read back equal, through both indexes
        assertThat(sink().findByCorrelationId(correlationId)).containsExactly(widest);
        assertThat(sink().findByType("late", AuditEvent.LATEST_TIME, AuditEvent.LATEST_TIME.plusMillis(1), 10))
                .containsExactly(latest);
    }

    @Test
    void aRowTheTableRefusesFailsWithAnSqlStateOfTheIntegrityClassAndWritesNothing() throws SQLException {
        // given a table with a constraint of its own
        JdbcAuditSink sink = sink();
        sink.createSchema();
        refusePoison();

        // when a batch holds an event it refuses
        List<AuditEvent> batch = List.of(Events.finished("fine", 1), Events.finished(Refusing.PREFIX, 2));

        // then the whole batch fails with the SQLState that tells a writer the refusal is for good
        assertThatThrownBy(() -> sink.write(batch))
                .isInstanceOfSatisfying(
                        AuditStoreException.class, e -> assertThat(e.sqlState()).isEqualTo(refusalSqlState()))
                .hasMessageContaining("(SQLState " + refusalSqlState() + ")");
        assertThat(count("")).isZero();
        sink.write(batch.subList(0, 1));
        assertThat(count("")).isEqualTo(1);
    }

    @Test
    void schemaCreationTwiceIsHarmless() throws SQLException {
        // given a table created and written to
        JdbcAuditSink sink = sink();
        sink.createSchema();
        sink.write(List.of(Events.finished("schema", 1)));

        // when the schema is created again, by this sink and by a fresh one
        sink.createSchema();
        JdbcAuditSink other = sink();
        other.createSchema();
        other.write(List.of(Events.finished("schema", 2)));

        // then nothing was lost and both writes are there
        assertThat(count("")).isEqualTo(2);
    }

    @Test
    void everyFieldRoundTrips() {
        // given an event with every field set
        AuditEvent event = Events.everyFieldSet();

        // when it is written and read back
        sink().write(List.of(event));
        List<AuditEvent> found = sink().findByCorrelationId(event.correlationId());

        // then it reads back equal
        assertThat(found).containsExactly(event);
        assertThat(found.get(0).additionalData()).isEqualTo(event.additionalData());
    }

    @Test
    void theColumnsHoldTheEventsKeyFields() throws SQLException {
        AuditEvent event = Events.everyFieldSet();
        sink().write(List.of(event));

        try (Connection c = dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT event_id, event_type, correlation_id, method_name, "
                        + "success, duration_ms, item_count FROM " + quoted());
                ResultSet rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(event.eventId().toString());
            assertThat(rs.getString(2)).isEqualTo(event.eventType());
            assertThat(rs.getString(3)).isEqualTo(event.correlationId());
            assertThat(rs.getString(4)).isEqualTo(event.methodName());
            assertThat(rs.getBoolean(5)).isEqualTo(event.success());
            assertThat(rs.getLong(6)).isEqualTo(event.durationMs());
            assertThat(rs.getLong(7)).isEqualTo(event.itemCount());
            assertThat(rs.next()).isFalse();
        }
        assertThat(createdDateMillis(event.eventId()))
                .isEqualTo(event.startedAt().toEpochMilli());
    }

    /** The created_date column of the event's row, as UTC epoch milliseconds. */
    long createdDateMillis(UUID eventId) throws SQLException {
        return store.createdDateMillis(dataSource, table, eventId);
    }

    @Test
    void writingAnEventAgainKeepsOneRow() throws SQLException {
        AuditEvent a = Events.finished("again", 1);
        AuditEvent b = Events.finished("again", 2);
        JdbcAuditSink sink = sink();

        sink.write(List.of(a, b));
        sink.write(List.of(b, a, Events.finished("again", 3))); // a retried batch, with one new event

        assertThat(count("")).isEqualTo(3);
        assertThat(count("WHERE correlation_id = ?", "again-1")).isEqualTo(1);
    }

    @Test
    void aBatchHoldingTheSameEventTwiceIsWrittenOnce() throws SQLException {
        AuditEvent started = AuditEvent.started("test:Run", "job", "twice", Events.BASE, null);
        AuditEvent done = started.completed(Events.BASE.plusSeconds(3), 42, true, null);

        sink().write(List.of(started, done, done));

        assertThat(count("")).isEqualTo(1);
        assertThat(sink().findByCorrelationId("twice")).containsExactly(done);
    }

    @Test
    void aLargeBatchIsStoredOnceEachInItsOrder() throws SQLException {
        // given 3,000 events started at the same instant, a third of them still running, one running event with its
        // finished one later in the batch, and an event already stored as running
        AuditEvent stored = AuditEvent.started("test:Run", "job", "order-stored", Events.BASE, null);
        sink().write(List.of(stored));
        List<AuditEvent> batch = new ArrayList<>();
        List<String> running = new ArrayList<>();
        List<String> finished = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            AuditEvent started = AuditEvent.started("test:Run", "job", "order-" + i, Events.BASE, Map.of("i", i));
            boolean stillRunning = i % 3 == 0;
            batch.add(stillRunning ? started : started.completed(Events.BASE.plusMillis(i), i, true, null));
            (stillRunning ? running : finished).add("order-" + i);
        }
        AuditEvent pair = AuditEvent.started("test:Run", "job", "order-pair", Events.BASE, null);
        batch.add(1500, pair);
        batch.add(pair.completed(Events.BASE.plusSeconds(1), 7, true, null));
        AuditEvent storedDone = stored.completed(Events.BASE.plusSeconds(2), 9, true, null);
        batch.add(storedDone);

        // when it is written
        sink().write(batch);

        // then every event has one row, the running events' rows first in the batch's order, then the finished ones'
        assertThat(count("")).isEqualTo(3002);
        List<String> expected = new ArrayList<>();
        expected.add("order-stored");
        expected.addAll(running);
        finished.add(finished.indexOf("order-1501"), "order-pair");
        expected.addAll(finished);
        assertThat(strings("SELECT correlation_id FROM " + quoted() + " ORDER BY id"))
                .containsExactlyElementsOf(expected);
        assertThat(sink().findByCorrelationId("order-pair"))
                .singleElement()
                .matches(e -> !e.running() && e.itemCount() == 7);
        assertThat(sink().findByCorrelationId("order-stored")).containsExactly(storedDone);
    }

    @Test
    void textThatLooksLikeSqlArraysOrNullIsStoredAsGiven() {
        // what an array literal or a COPY line would treat specially, in every text column
        List<String> texts = List.of(
                "NULL",
                "null",
                "{a,\"b\"}",
                "{}",
                " padded ",
                "back\\slash",
                "tab\tand\nnewline",
                "\"",
                "a,b",
                "(1,2)",
                "\\N",
                "");
        List<AuditEvent> events = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i);
            events.add(new AuditEvent(
                    UUID.randomUUID(),
                    t.isEmpty() ? "type" : t,
                    t.isEmpty() ? "method" : t,
                    "literal-" + i + t,
                    Events.BASE.plusMillis(i),
                    Events.BASE.plusMillis(i + 1),
                    1,
                    1,
                    1.0,
                    true,
                    AuditEvent.COMPLETED,
                    null,
                    0,
                    0,
                    Map.of(t, t)));
        }

        sink().write(events);

        for (AuditEvent e : events) {
            assertThat(sink().findByCorrelationId(e.correlationId())).containsExactly(e);
        }
    }

    @Test
    void aFinishedEventCompletesItsRunningRow() throws SQLException {
        // given a running row, as a long run writes when it starts
        AuditEvent started = AuditEvent.started(
                AuditEvent.PIPELINE_RUN, "nightly-export", "long-run", Events.BASE, Map.of("host", "a"));
        sink().write(List.of(started));
        assertThat(sink().findByCorrelationId("long-run")).singleElement().matches(AuditEvent::running);

        // when the run ends
        AuditEvent finished = started.completed(Events.BASE.plusSeconds(3600), 1_000_000, true, null);
        sink().write(List.of(finished));

        // then the same row holds the finished event
        assertThat(count("")).isEqualTo(1);
        assertThat(sink().findByCorrelationId("long-run")).containsExactly(finished);
        assertThat(count("WHERE item_count = ? AND duration_ms = ?", 1_000_000L, 3_600_000L))
                .isEqualTo(1);
    }

    @Test
    void aRunningEventNeverReplacesAFinishedRow() throws SQLException {
        // given the finished event stored first (its running event was spilled and is replayed late)
        AuditEvent started = AuditEvent.started(AuditEvent.PIPELINE_RUN, "job", "late-start", Events.BASE, null);
        AuditEvent finished = started.completed(Events.BASE.plusSeconds(5), 10, false, "disk full");
        sink().write(List.of(finished));

        // when the running event arrives
        sink().write(List.of(started));

        // then the finished event stays
        assertThat(sink().findByCorrelationId("late-start")).containsExactly(finished);
        assertThat(count("")).isEqualTo(1);
    }

    @Test
    void findByCorrelationIdGivesThatIdsEventsInStartOrder() {
        AuditEvent later = Events.streaming("shared", Events.BASE.plusSeconds(10), 5);
        AuditEvent earlier = Events.streaming("shared", Events.BASE, 7);
        AuditEvent other = Events.streaming("other", Events.BASE, 9);
        sink().write(List.of(later, other, earlier));

        assertThat(sink().findByCorrelationId("shared")).containsExactly(earlier, later);
        assertThat(sink().findByCorrelationId("nobody")).isEmpty();
    }

    @Test
    void findByTypeGivesEventsStartedInTheHalfOpenRangeOldestFirstUpToTheLimit() {
        List<AuditEvent> events = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            events.add(Events.streaming("range-" + i, Events.BASE.plusSeconds(i), i));
        }
        events.add(AuditEvent.started("other:Type", "m", "range-other", Events.BASE.plusSeconds(3), null));
        sink().write(events);

        Instant from = Events.BASE.plusSeconds(2);
        Instant to = Events.BASE.plusSeconds(6);
        assertThat(sink().findByType(AuditEvent.GRPC_STREAMING, from, to, 100))
                .extracting(AuditEvent::correlationId)
                .containsExactly("range-2", "range-3", "range-4", "range-5");
        assertThat(sink().findByType(AuditEvent.GRPC_STREAMING, from, to, 2))
                .extracting(AuditEvent::correlationId)
                .containsExactly("range-2", "range-3");
        assertThat(sink().findByType("other:Type", Events.BASE, to, 100))
                .extracting(AuditEvent::correlationId)
                .containsExactly("range-other");
    }

    @Test
    void additionalDataWithNullsNestedMapsAndUnicodeIsStoredAsGiven() {
        Map<String, Object> deep = new LinkedHashMap<>();
        deep.put("null", null);
        deep.put("list", java.util.Arrays.asList(null, 1, List.of(), Map.of()));
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("a", Map.of("b", Map.of("c", deep)));
        data.put("ключ 🔑", "значение — 値 — \u202e reversed");
        data.put("quote\"and\\backslash", "'; DROP TABLE audit_logs; --");
        data.put("max", Long.MAX_VALUE);
        data.put("tiny", 1.5e-7);
        AuditEvent event = AuditEvent.streaming("m", "unicode-" + UUID.randomUUID())
                .startedAt(Events.BASE)
                .duration(java.time.Duration.ofSeconds(1))
                .itemCount(1)
                .additionalData(data)
                .build();

        sink().write(List.of(event));

        assertThat(sink().findByCorrelationId(event.correlationId())).containsExactly(event);
    }

    @Test
    void aOneMegabyteStringIsStored() {
        String big = "x".repeat(1_000_000);
        AuditEvent event = AuditEvent.streaming("m", "big-" + UUID.randomUUID())
                .startedAt(Events.BASE)
                .duration(java.time.Duration.ofSeconds(1))
                .itemCount(1)
                .additionalData(Map.of("payload", big))
                .build();

        sink().write(List.of(event));

        AuditEvent back = sink().findByCorrelationId(event.correlationId()).get(0);
        assertThat((String) back.additionalData().get("payload"))
                .hasSize(1_000_000)
                .isEqualTo(big);
    }

    @Test
    void hostileTextIsStoredAsData() throws SQLException {
        String hostile = "x'); DROP TABLE " + quoted() + "; --";
        AuditEvent event = new AuditEvent(
                UUID.randomUUID(),
                hostile,
                hostile,
                hostile,
                Events.BASE,
                Events.BASE.plusMillis(1),
                1,
                1,
                1.0,
                true,
                "COMPLETED",
                hostile + "\u0000nul",
                0,
                0,
                Map.of(hostile, hostile));

        sink().write(List.of(event));

        assertThat(sink().findByCorrelationId(hostile)).containsExactly(event);
        assertThat(count("")).isEqualTo(1);
        assertThat(event.errorMessage()).endsWith("\uFFFDnul"); // U+0000, which PostgreSQL refuses, is replaced
    }

    @Test
    void anExistingTableWithoutTheAuditColumnsIsRefusedClearly() throws SQLException {
        try (Connection c = dataSource().getConnection();
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + quoted() + " (id INTEGER PRIMARY KEY, something TEXT)");
        }

        assertThatThrownBy(() -> sink().createSchema())
                .isInstanceOf(AuditStoreException.class)
                .hasMessageContaining("table " + quoted())
                .hasMessageContaining("lacks the audit columns");
    }

    @Test
    void lookupsMatchTextExactlyNotUpToTrailingSpaces() {
        // given two events whose correlation IDs and types differ only by a trailing space
        AuditEvent bare = AuditEvent.started("pad:Type", "m", "padded", Events.BASE, null);
        AuditEvent spaced = AuditEvent.started("pad:Type ", "m", "padded ", Events.BASE, null);
        sink().write(List.of(bare, spaced));

        // when each is looked up, then only that one is found
        assertThat(sink().findByCorrelationId("padded")).containsExactly(bare);
        assertThat(sink().findByCorrelationId("padded ")).containsExactly(spaced);
        assertThat(sink().findByType("pad:Type", Events.BASE, Events.BASE.plusSeconds(1), 10))
                .containsExactly(bare);
    }

    @Test
    void concurrentSchemaCreationIsHarmless() throws Exception {
        // given several sinks on one new table, created at once (CREATE IF NOT EXISTS alone races in PostgreSQL)
        List<Thread> threads = new ArrayList<>();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch go = new CountDownLatch(1);
        for (int i = 0; i < 6; i++) {
            int n = i;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    sink().write(List.of(Events.finished("concurrent", n)));
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }

        // when they all go
        go.countDown();
        for (Thread t : threads) {
            assertThat(t.join(Duration.ofSeconds(30))).isTrue();
        }

        // then none failed and every event is there
        assertThat(failures).isEmpty();
        assertThat(count("")).isEqualTo(6);
    }

    @Test
    void theShippedDdlMakesATableThatASinkWithoutSchemaCreationUses() throws Exception {
        // given the table created as a DBA would, from the DDL file this module ships for the database, renamed
        applyShippedDdl();

        // when a sink that runs no DDL writes and reads
        JdbcAuditSink sink = sink().withSchemaCreation(false);
        sink.createSchema();
        AuditEvent started = AuditEvent.started("ddl:Run", "job", "ddl-" + UUID.randomUUID(), Events.BASE, null);
        AuditEvent done = started.completed(Events.BASE.plusSeconds(1), 3, true, null);
        sink.write(List.of(started));
        sink.write(List.of(done, started));

        // then the row is there, complete, with the same semantics as a table the sink made
        assertThat(sink.findByCorrelationId(started.correlationId())).containsExactly(done);
        assertThat(sink.findByType("ddl:Run", Events.BASE, Events.BASE.plusSeconds(1), 10))
                .containsExactly(done);
        assertThat(count("")).isEqualTo(1);
    }

    @Test
    void withoutSchemaCreationAMissingTableFailsNamingTheDdlFileAndIsNotCreated() throws SQLException {
        JdbcAuditSink sink = sink().withSchemaCreation(false);

        assertThatThrownBy(() -> sink.write(List.of(Events.finished("missing", 1))))
                .isInstanceOf(AuditStoreException.class)
                .hasMessageContaining("table " + quoted() + " is missing or lacks the audit columns")
                .hasMessageContaining("db/sluice-audit/" + store.name().toLowerCase(java.util.Locale.ROOT)
                        + "/V1__create_audit_logs.sql");
        assertThatThrownBy(() -> count("")).isInstanceOf(SQLException.class);
    }

    /** Runs the shipped DDL file on this test's table, its name put in by text, as a DBA would. */
    void applyShippedDdl() throws Exception {
        String resource =
                "/db/sluice-audit/" + store.name().toLowerCase(java.util.Locale.ROOT) + "/V1__create_audit_logs.sql";
        String ddl;
        try (java.io.InputStream in = JdbcAuditSink.class.getResourceAsStream(resource)) {
            assertThat(in).as(resource).isNotNull();
            ddl = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        try (Connection c = dataSource().getConnection();
                Statement s = c.createStatement()) {
            for (String statement : ddl.replaceAll("(?m)^--.*$", "").split(";\\s*\\n")) {
                if (!statement.isBlank()) {
                    s.execute(statement.replace("audit_logs", table()));
                }
            }
        }
    }
}
