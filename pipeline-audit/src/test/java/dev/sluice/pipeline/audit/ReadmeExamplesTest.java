package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.Overflow;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snippets of docs/audit.md, kept compiling and running here. Between each pair of markers is the text the page
 * shows.
 */
@Timeout(60)
class ReadmeExamplesTest {

    @TempDir
    Path dir;

    @Test
    void everyRunLeavesOneRow() throws Exception {
        Path dataDir = dir;
        MeterRegistry registry = new SimpleMeterRegistry();
        // README: every run
        JdbcAuditSink store = JdbcAuditSink.sqlite(dataDir.resolve("app.db"));
        try (AuditWriter audit = AuditWriter.builder(store)
                .spillFile(dataDir.resolve("audit-spill.jsonl"))
                .meterRegistry(registry)
                .build()) {
            Pipeline.from(Source.range(0, 1_000))
                    .pipelineName("users-bulk")
                    .listener(AuditListener.to(audit))
                    .to(Sink.count())
                    .run();
        }
        // README: end

        assertThat(store.findByType(
                        AuditEvent.PIPELINE_RUN, Instant.EPOCH, Instant.now().plusSeconds(60), 10))
                .singleElement()
                .matches(e -> e.methodName().equals("users-bulk") && e.itemCount() == 1_000);
    }

    @Test
    void theDotNetGuidesLogStreamingAuditEvent() {
        AuditWriter audit = AuditWriter.builder(new InMemoryAuditSink()).build();
        Instant startTime = Instant.now();
        int processedCount = 500;
        // README: manual
        String correlationId = UUID.randomUUID().toString();
        // ... stream, counting processedCount ...
        audit.log(AuditEvent.streaming("GetUsersOnlineStream", correlationId)
                .startedAt(startTime)
                .duration(Duration.between(startTime, Instant.now()))
                .itemCount(processedCount)
                .additionalData(Map.of("UserId", "SystemUser", "OperationType", "BulkProcess"))
                .build());
        // README: end
        AuditReport report = audit.close(Duration.ofSeconds(5));
        assertThat(report.written()).isEqualTo(1);
    }

    @Test
    void postgresAndLookups() throws Exception {
        DataSource pooledDataSource = Postgres.dataSource();
        Path dataDir = dir;
        String auditTable = Postgres.uniqueTable("readme");
        try {
            // README: postgres
            JdbcAuditSink store =
                    JdbcAuditSink.forDataSource(pooledDataSource).withTable(auditTable); // without it: audit_logs
            store.createSchema(); // optional: fail fast at start-up rather than in the writer's log
            AuditWriter audit = AuditWriter.builder(store)
                    .spillFile(dataDir.resolve("audit-spill.jsonl"))
                    .whenFull(Overflow.DROP_NEWEST) // never wait; drops are counted
                    .build();
            // README: end
            String correlationId = "readme-" + UUID.randomUUID();
            audit.log(AuditEvent.streaming("GetUsersOnlineStream", correlationId)
                    .startedAt(Instant.now())
                    .duration(Duration.ofSeconds(1))
                    .itemCount(5)
                    .build());
            // README: close
            AuditReport report = audit.close(Duration.ofSeconds(10));
            // AuditReport[submitted=1, written=1, spilled=0, replayed=0, deadLettered=0, dropped=0, pending=0]
            // README: end
            assertThat(report.written()).isEqualTo(1);
            assertThat(report.toString())
                    .isEqualTo("AuditReport[submitted=1, written=1, spilled=0, replayed=0, deadLettered=0, dropped=0, "
                            + "pending=0]");

            // README: lookups
            List<AuditEvent> thisRun = store.findByCorrelationId(correlationId);
            List<AuditEvent> lastHour = store.findByType(
                    AuditEvent.GRPC_STREAMING, Instant.now().minus(Duration.ofHours(1)), Instant.now(), 100);
            // README: end
            assertThat(thisRun).hasSize(1);
            assertThat(lastHour).extracting(AuditEvent::correlationId).contains(correlationId);
        } finally {
            Postgres.dropTable(pooledDataSource, auditTable);
        }
    }

    @Test
    void longRuns() throws Exception {
        AuditWriter audit =
                AuditWriter.builder(new InMemoryAuditSink()).logEvents(false).build();
        // README: long runs
        Pipeline.from(Source.range(0, 1_000))
                .pipelineName("nightly-export")
                .listener(AuditListener.to(audit).startedRowAfter(Duration.ofMinutes(1)))
                .to(Sink.count())
                .run();
        // README: end
        assertThat(audit.close(Duration.ofSeconds(5)).written()).isEqualTo(1);
    }

    @Test
    void mariaDbWithoutDdl() throws Exception {
        DataSource mariaDbPool = MariaDb.dataSource();
        String auditSchema = "sluice_audit_docs";
        MariaDb.execute(mariaDbPool, "CREATE DATABASE IF NOT EXISTS " + auditSchema);
        JdbcAuditSink.forDataSource(mariaDbPool).withSchema(auditSchema).createSchema(); // the DBA's part
        try {
            // docs/audit.md: mariadb
            JdbcAuditSink store = JdbcAuditSink.forDataSource(mariaDbPool)
                    .withSchema(auditSchema) // a database of its own; without it, the URL's
                    .withSchemaCreation(false); // the table comes from the shipped DDL, applied beforehand
            // docs/audit.md: end
            AuditEvent event = Events.finished("docs-" + UUID.randomUUID(), 1);
            store.write(List.of(event));
            assertThat(store.findByCorrelationId(event.correlationId())).containsExactly(event);
        } finally {
            MariaDb.execute(mariaDbPool, "DROP TABLE IF EXISTS " + auditSchema + ".audit_logs");
        }
    }
}
