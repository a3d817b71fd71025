package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class Slf4jAuditSinkTest {

    @Test
    void eachEventIsOneLineAsTheSeedLogsIt() {
        try (LogCapture logs = LogCapture.of(Slf4jAuditSink.DEFAULT_LOGGER)) {
            Slf4jAuditSink.create()
                    .write(List.of(
                            AuditEvent.streaming("GetUsersOnlineStream", "c-1")
                                    .startedAt(Instant.EPOCH)
                                    .duration(Duration.ofMillis(1234))
                                    .itemCount(500)
                                    .build(),
                            AuditEvent.started(
                                    AuditEvent.PIPELINE_RUN,
                                    "nightly",
                                    "c-2",
                                    Instant.parse("2025-01-01T00:00:00Z"),
                                    null)));

            assertThat(logs.messages())
                    .containsExactly(
                            "gRPC:Streaming GetUsersOnlineStream completed: 500 items in 1234 ms (405.19 items/s) (correlation c-1)",
                            "Pipeline:Run nightly started at 2025-01-01T00:00:00Z (correlation c-2)");
            assertThat(logs.events()).extracting(ILoggingEvent::getLevel).containsOnly(Level.INFO);
        }
    }

    @Test
    void aFailureIsAWarningWithRetriesResumesAndItsErrorEscapedOntoOneLine() {
        AuditEvent failed = new AuditEvent(
                java.util.UUID.randomUUID(),
                AuditEvent.GRPC_STREAMING,
                "Get",
                "c\nforged",
                Instant.EPOCH,
                Instant.EPOCH.plusSeconds(2),
                2000,
                10,
                5.0,
                false,
                "FAILED",
                "UNAVAILABLE\nINFO fake line\r\tend",
                3,
                1,
                null);
        try (LogCapture logs = LogCapture.of(Slf4jAuditSink.DEFAULT_LOGGER)) {
            Slf4jAuditSink.create().write(List.of(failed));

            assertThat(logs.messages())
                    .containsExactly("gRPC:Streaming Get failed: 10 items in 2000 ms (5.00 items/s, 3 "
                            + "retries, 1 resumes) (correlation c\\nforged): UNAVAILABLE\\nINFO fake line\\r\\tend");
            assertThat(logs.events()).extracting(ILoggingEvent::getLevel).containsExactly(Level.WARN);
            assertThat(logs.events().get(0).getKeyValuePairs())
                    .extracting(kv -> kv.key)
                    .contains("eventId", "correlationId", "outcome", "itemCount", "durationMs");
        }
    }

    @Test
    void aSinkCanLogToALoggerOfTheCallersChoice() {
        try (LogCapture logs = LogCapture.of("my.audit")) {
            Slf4jAuditSink.to(org.slf4j.LoggerFactory.getLogger("my.audit"))
                    .write(List.of(Events.streaming("c", Instant.EPOCH, 1)));

            assertThat(logs.messages()).hasSize(1);
        }
    }
}
