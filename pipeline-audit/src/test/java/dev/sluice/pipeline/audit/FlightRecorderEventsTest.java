package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import jdk.jfr.ValueDescriptor;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteDataSource;

/**
 * What the audit writer puts on a flight recording: a {@code dev.sluice.AuditSpill} event for each batch of audit
 * events that did not go to the store as it came (spilled, dropped, or set aside in the dead-letter file), whose counts
 * add up to the writer's report.
 */
@Timeout(60)
class FlightRecorderEventsTest {

    private static final String SPILL = "dev.sluice.AuditSpill";
    /** A port of this machine where nothing listens: the database cannot be reached. */
    private static final int NOTHING_LISTENS = 1;

    @TempDir
    Path dir;

    private static AuditWriter.Builder writer(AuditSink sink) {
        return AuditWriter.builder(sink)
                .logEvents(false)
                .batchSize(10)
                .retry(1, Duration.ofMillis(10), Duration.ofMillis(50));
    }

    private static JdbcAuditSink unreachablePostgres() {
        return JdbcAuditSink.forDataSource(Postgres.dataSource(NOTHING_LISTENS));
    }

    private static void submit(AuditWriter writer, String prefix, int n) throws InterruptedException {
        for (int i = 0; i < n; i++) {
            assertThat(writer.submit(Events.finished(prefix, i))).isTrue();
        }
    }

    @Test
    void eventsAnUnreachableDatabaseCannotTakeAreRecordedAsSpilledToTheSpillFile() throws Exception {
        Path spill = dir.resolve("spill.jsonl");
        try (Recorded recorded = new Recorded()) {
            // given a writer with a spill file on a database that cannot be reached
            AuditWriter writer = writer(unreachablePostgres()).spillFile(spill).build();

            // when events are submitted
            submit(writer, "unreachable", 25);
            await().atMost(Duration.ofSeconds(20)).until(() -> writer.report().spilled() == 25);

            // then every one of them is on the recording as spilled, to that file, with the reason
            List<RecordedEvent> spilled = recorded.awaitCount(25, action("spilled"));
            assertThat(spilled).extracting(e -> e.getString("file")).containsOnly(spill.toString());
            assertThat(spilled)
                    .extracting(e -> e.getString("reason"))
                    .contains("the audit store failed")
                    .isSubsetOf("the audit store failed", "the audit store is down");
            assertThat(recorded.matching(action("dropped"))).isEmpty();
            assertThat(ownFields(spilled.get(0)))
                    .as("docs/metrics.md")
                    .containsExactlyInAnyOrderElementsOf(documentedFields(SPILL));
            writer.close(Duration.ofSeconds(10));
        }
    }

    @Test
    void withoutASpillFileEventsAnUnreachableDatabaseCannotTakeAreRecordedAsDropped() throws Exception {
        try (Recorded recorded = new Recorded()) {
            // given a writer without a spill file on a database that cannot be reached
            AuditWriter writer = writer(unreachablePostgres()).build();

            // when events are submitted
            submit(writer, "dropped", 15);
            await().atMost(Duration.ofSeconds(20)).until(() -> writer.report().dropped() == 15);

            // then every one of them is on the recording as dropped, with the reason
            List<RecordedEvent> dropped = recorded.awaitCount(15, action("dropped"));
            assertThat(dropped)
                    .extracting(e -> e.getString("reason"))
                    .containsOnly("the audit store failed and no spill file is configured");
            assertThat(dropped).extracting(e -> e.getString("file")).containsOnly((String) null);
            writer.close(Duration.ofSeconds(10));
        }
    }

    @Test
    void anEventTheStoreRefusesForGoodIsRecordedAsSpilledThenDeadLettered() throws Exception {
        Path spill = dir.resolve("refused.jsonl");
        try (Recorded recorded = new Recorded()) {
            // given a writer with a spill file on an SQLite table whose trigger refuses "poison" events
            JdbcAuditSink sink = sqliteRefusingPoison();
            AuditWriter writer = writer(sink).spillFile(spill).build();

            // when a poison event comes between good ones
            submit(writer, "good", 5);
            assertThat(writer.submit(Events.finished(Refusing.PREFIX, 1))).isTrue();
            submit(writer, "more", 5);
            await().atMost(Duration.ofSeconds(20)).until(() -> writer.report().deadLettered() == 1);

            // then it is on the recording twice: spilled by the writer, set aside by the replay with the SQLState
            RecordedEvent spilled = recorded.awaitCount(1, action("spilled")).get(0);
            assertThat(spilled.getString("reason")).isEqualTo("the audit store refused it");
            RecordedEvent deadLettered =
                    recorded.awaitCount(1, action("dead-lettered")).get(0);
            assertThat(deadLettered.getInt("count")).isEqualTo(1);
            assertThat(deadLettered.getString("sqlState")).isEqualTo("23000");
            assertThat(deadLettered.getString("reason")).contains("poison is refused");
            assertThat(deadLettered.getString("file")).startsWith(dir.toString());
            writer.close(Duration.ofSeconds(10));
        }
    }

    private JdbcAuditSink sqliteRefusingPoison() throws SQLException {
        SQLiteDataSource ds = new SQLiteDataSource();
        ds.setUrl("jdbc:sqlite:" + dir.resolve("audit.db"));
        JdbcAuditSink sink = JdbcAuditSink.sqlite(dir.resolve("audit.db"));
        sink.createSchema();
        Refusing.sqliteTrigger(ds, JdbcAuditSink.DEFAULT_TABLE);
        return sink;
    }

    private static Predicate<RecordedEvent> action(String action) {
        return e -> action.equals(e.getString("action"));
    }

    /** The fields docs/metrics.md lists for {@code event}: the names in backquotes in the last column of its row. */
    private static List<String> documentedFields(String event) throws IOException {
        String row = Files.readAllLines(Path.of("..", "docs", "metrics.md")).stream()
                .filter(line -> line.startsWith("| `" + event + "` |"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("docs/metrics.md has no row for " + event));
        String[] columns = row.split("\\|");
        return Pattern.compile("`([a-zA-Z]+)`")
                .matcher(columns[columns.length - 1])
                .results()
                .map(m -> m.group(1))
                .toList();
    }

    /** The fields of an event of Sluice's own, without those every JFR event has. */
    private static List<String> ownFields(RecordedEvent event) {
        return event.getFields().stream()
                .map(ValueDescriptor::getName)
                .filter(n -> !List.of("startTime", "duration", "eventThread", "stackTrace")
                        .contains(n))
                .toList();
    }

    /** A recording of the audit spill events, streamed into a list as JFR flushes them (about once a second). */
    private static final class Recorded implements AutoCloseable {
        private final RecordingStream stream = new RecordingStream();
        private final List<RecordedEvent> events = new CopyOnWriteArrayList<>();

        Recorded() {
            stream.enable(SPILL);
            stream.onEvent(SPILL, events::add);
            stream.setReuse(false); // the events are kept: each must be an object of its own
            stream.startAsync();
        }

        /** Waits until the matching events count {@code count} audit events, and returns them. */
        List<RecordedEvent> awaitCount(int count, Predicate<RecordedEvent> which) {
            await().atMost(Duration.ofSeconds(10)).until(() -> sum(matching(which)) >= count);
            List<RecordedEvent> matching = matching(which);
            assertThat(sum(matching)).as("audit events in %s", matching).isEqualTo(count);
            return matching;
        }

        private static int sum(List<RecordedEvent> recorded) {
            return recorded.stream().mapToInt(e -> e.getInt("count")).sum();
        }

        List<RecordedEvent> matching(Predicate<RecordedEvent> which) {
            return events.stream().filter(which).toList();
        }

        @Override
        public void close() {
            stream.close();
        }
    }
}
