package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.MDC;

/** Enrichers on the audit writer: attributes on every event, from the submitting thread, never at the event's cost. */
@Timeout(60)
class AuditEnricherTest {

    @TempDir
    Path dir;

    private final InMemoryAuditSink memory = new InMemoryAuditSink();

    @AfterEach
    void clearMdc() {
        MDC.clear();
    }

    private static AuditEvent manual() {
        return AuditEvent.builder("test:Event", "manual", "c-1")
                .startedAt(Instant.parse("2026-01-01T00:00:00Z"))
                .duration(Duration.ofMillis(5))
                .additionalData(Map.of("own", "event's"))
                .build();
    }

    @Test
    void aTenantPutInTheMdcBeforeTheRunIsOnTheRunsAuditRow() throws Exception {
        // given a writer to SQLite that adds the MDC's tenant
        JdbcAuditSink store = JdbcAuditSink.sqlite(dir.resolve("audit.db"));
        try (AuditWriter audit = AuditWriter.builder(store)
                .logEvents(false)
                .enricher(AuditEnricher.mdc("tenant"))
                .build()) {
            // when the tenant is in the MDC of the thread that runs the pipeline
            MDC.put("tenant", "acme");
            Pipeline.from(Source.range(0, 10))
                    .pipelineName("tenanted")
                    .listener(AuditListener.to(audit))
                    .to(Sink.count())
                    .run();
        }

        // then the run's row carries it (the listener submits from the run's own thread)
        assertThat(store.findByType(
                        AuditEvent.PIPELINE_RUN, Instant.EPOCH, Instant.now().plusSeconds(60), 10))
                .singleElement()
                .satisfies(e -> assertThat(e.additionalData()).containsEntry("tenant", "acme"));
    }

    @Test
    void everyEventCarriesTheHostAndTheApplicationVersion() throws Exception {
        // given a writer with both enrichers
        AuditWriter audit = AuditWriter.builder(memory)
                .logEvents(false)
                .enricher(AuditEnricher.hostName())
                .enricher(AuditEnricher.applicationVersion("2.4.1"))
                .build();

        // when an event is logged
        audit.log(manual());
        audit.close(Duration.ofSeconds(5));

        // then it has them, besides its own data
        assertThat(memory.events())
                .singleElement()
                .satisfies(e -> assertThat(e.additionalData())
                        .containsEntry("own", "event's")
                        .containsEntry(
                                AuditEnricher.HOST_NAME,
                                InetAddress.getLocalHost().getHostName())
                        .containsEntry(AuditEnricher.SERVICE_VERSION, "2.4.1"));
    }

    @Test
    void theRunsTraceAndSpanIdsAreOnItsAuditRow() throws Exception {
        // given a tracer over an observation registry, and a writer that adds the current span's IDs
        try (InMemoryTracing tracing = new InMemoryTracing()) {
            AuditWriter audit = AuditWriter.builder(memory)
                    .logEvents(false)
                    .enricher(AuditEnricher.traceIds(tracing.tracer))
                    .build();

            // when an observed run is audited
            Pipeline.from(Source.range(0, 10))
                    .pipelineName("traced")
                    .observationRegistry(tracing.registry)
                    .listener(AuditListener.to(audit))
                    .to(Sink.count())
                    .run();
            audit.close(Duration.ofSeconds(5));

            // then its row names the run's span and trace
            SpanData run = tracing.spans().stream()
                    .filter(s -> "traced".equals(s.getAttributes().get(AttributeKey.stringKey("pipeline"))))
                    .findFirst()
                    .orElseThrow();
            assertThat(memory.events())
                    .singleElement()
                    .satisfies(e -> assertThat(e.additionalData())
                            .containsEntry(AuditEnricher.TRACE_ID, run.getTraceId())
                            .containsEntry(AuditEnricher.SPAN_ID, run.getSpanId()));
        }
    }

    @Test
    void withoutACurrentSpanNoTraceIdsAreAdded() throws Exception {
        try (InMemoryTracing tracing = new InMemoryTracing()) {
            // given a writer that adds the current span's IDs
            AuditWriter audit = AuditWriter.builder(memory)
                    .logEvents(false)
                    .enricher(AuditEnricher.traceIds(tracing.tracer))
                    .build();

            // when an event is logged outside any span
            audit.log(manual());
            audit.close(Duration.ofSeconds(5));

            // then it has only its own data
            assertThat(memory.events())
                    .singleElement()
                    .satisfies(e -> assertThat(e.additionalData()).containsOnlyKeys("own"));
        }
    }

    @Test
    void anEnricherThatThrowsCostsTheEventOnlyItsAttributesAndIsCountedAndLogged() throws Exception {
        // given an enricher that throws, between two that work
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AuditWriter audit = AuditWriter.builder(memory)
                .logEvents(false)
                .meterRegistry(registry)
                .enricher(AuditEnricher.mdc("tenant"))
                .enricher(event -> {
                    throw new IllegalStateException("no tenant service");
                })
                .enricher(AuditEnricher.applicationVersion("2.4.1"))
                .build();
        MDC.put("tenant", "acme");

        // when an event is logged
        try (LogCapture logs = LogCapture.of(AuditWriter.class)) {
            assertThat(audit.log(manual())).isTrue();

            // then the failure is logged, and counted
            assertThat(logs.messages())
                    .anySatisfy(
                            m -> assertThat(m).contains("audit enricher").contains("written without its attributes"));
        }
        assertThat(registry.get("sluice.audit.enrichment.failures")
                        .functionCounter()
                        .count())
                .isEqualTo(1.0);
        audit.close(Duration.ofSeconds(5));
        // and the event is written with the others' attributes
        assertThat(memory.events())
                .singleElement()
                .satisfies(e -> assertThat(e.additionalData())
                        .containsOnlyKeys("own", "tenant", AuditEnricher.SERVICE_VERSION));
    }

    @Test
    void anEnricherWhoseValueCannotBeStoredIsLeftOutAndTheRestKept() throws Exception {
        // given an enricher whose value is longer than any store takes, after one that works
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AuditWriter audit = AuditWriter.builder(memory)
                .logEvents(false)
                .meterRegistry(registry)
                .enricher(AuditEnricher.applicationVersion("2.4.1"))
                .enricher(event -> Map.of("dump", "x".repeat(AuditEvent.MAX_ADDITIONAL_DATA_LENGTH + 1)))
                .build();

        // when an event is logged
        assertThat(audit.log(manual())).isTrue();

        // then the failure is counted
        assertThat(registry.get("sluice.audit.enrichment.failures")
                        .functionCounter()
                        .count())
                .isEqualTo(1.0);
        // and the event written with the storable attributes
        audit.close(Duration.ofSeconds(5));
        assertThat(memory.events())
                .singleElement()
                .satisfies(e -> assertThat(e.additionalData()).containsOnlyKeys("own", AuditEnricher.SERVICE_VERSION));
    }

    @Test
    void theEventsOwnKeysAndEarlierEnrichersWin() throws Exception {
        // given two enrichers that both give "own" and "k"
        Map<String, Object> first = new LinkedHashMap<>();
        first.put("own", "first");
        first.put("k", "first");
        AuditWriter audit = AuditWriter.builder(memory)
                .logEvents(false)
                .enricher(event -> first)
                .enricher(event -> Map.of("own", "second", "k", "second", "only", "second"))
                .build();

        // when an event that has "own" is logged
        audit.log(manual());
        audit.close(Duration.ofSeconds(5));

        // then nothing is overwritten
        assertThat(memory.events())
                .singleElement()
                .satisfies(e -> assertThat(e.additionalData())
                        .containsExactlyInAnyOrderEntriesOf(Map.of("own", "event's", "k", "first", "only", "second")));
    }

    @Test
    void theDocsWriterPutsTenantHostVersionAndTraceOnARunsRow() throws Exception {
        try (InMemoryTracing tracing = new InMemoryTracing()) {
            JdbcAuditSink store = JdbcAuditSink.sqlite(dir.resolve("docs.db"));
            io.micrometer.tracing.Tracer tracer = tracing.tracer;
            // docs/audit.md: enrichers
            AuditWriter audit = AuditWriter.builder(store)
                    .enricher(AuditEnricher.mdc("tenant")) // the MDC of the thread that submits
                    .enricher(AuditEnricher.hostName()) // "host.name", looked up once
                    .enricher(AuditEnricher.applicationVersion("2.4.1")) // "service.version"
                    .enricher(AuditEnricher.traceIds(tracer)) // "trace.id" and "span.id" of the current span
                    .build();
            // docs/audit.md: end
            MDC.put("tenant", "acme");
            Pipeline.from(Source.range(0, 3))
                    .observationRegistry(tracing.registry)
                    .listener(AuditListener.to(audit))
                    .to(Sink.count())
                    .run();
            audit.close(Duration.ofSeconds(5));

            assertThat(store.findByType(
                            AuditEvent.PIPELINE_RUN,
                            Instant.EPOCH,
                            Instant.now().plusSeconds(60),
                            10))
                    .singleElement()
                    .satisfies(e -> assertThat(e.additionalData())
                            .containsEntry("tenant", "acme")
                            .containsEntry(AuditEnricher.SERVICE_VERSION, "2.4.1")
                            .containsKeys(AuditEnricher.HOST_NAME, AuditEnricher.TRACE_ID, AuditEnricher.SPAN_ID));
        }
    }
}
