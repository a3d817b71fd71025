package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Outcome;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class AuditListenerTest {

    @TempDir
    Path dir;

    private InMemoryAuditSink store;
    private AuditWriter writer;

    @BeforeEach
    void openWriter() {
        store = new InMemoryAuditSink();
        writer = AuditWriter.builder(store).logEvents(false).build();
    }

    @AfterEach
    void closeWriter() {
        writer.close(Duration.ofSeconds(5));
    }

    private List<AuditEvent> eventsAfterClose() {
        writer.close(Duration.ofSeconds(5));
        return store.events();
    }

    @Test
    void aCompletedRunWritesOneEventWithItsCountsAndCorrelationId() throws Exception {
        // when a run of 1,000 items completes
        PipelineResult<Long> result = Pipeline.from(Source.range(0, 1000))
                .pipelineName("users-bulk")
                .listener(AuditListener.to(writer))
                .to(Sink.count())
                .run();

        // then one event tells its story
        AuditEvent e = eventsAfterClose().get(0);
        assertThat(store.size()).isEqualTo(1);
        assertThat(e.eventType()).isEqualTo(AuditEvent.PIPELINE_RUN);
        assertThat(e.methodName()).isEqualTo("users-bulk");
        assertThat(e.correlationId()).isEqualTo(result.correlationId());
        assertThat(e.itemCount()).isEqualTo(1000);
        assertThat(e.durationMs()).isEqualTo(result.duration().toMillis());
        assertThat(e.itemsPerSecond())
                .isCloseTo(result.summary().itemsPerSecond(), org.assertj.core.data.Offset.offset(0.01));
        assertThat(e.startedAt())
                .isEqualTo(result.summary().startedAt().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        assertThat(e.success()).isTrue();
        assertThat(e.outcome()).isEqualTo("COMPLETED");
        assertThat(e.errorMessage()).isNull();
        List<?> stages = (List<?>) e.additionalData().get("stages");
        assertThat(stages.stream()
                        .map(s -> String.valueOf(((Map<?, ?>) s).get("name")))
                        .toList())
                .containsExactly("source", "count");
        assertThat(e.additionalData()).doesNotContainKey("failedStage");
    }

    @Test
    void aFailedRunRecordsTheFailureAndTheStage() {
        RuntimeException boom = new IllegalStateException("bad row 500");
        assertThatThrownBy(() -> Pipeline.from(Source.range(0, 1000))
                        .pipelineName("import")
                        .map(i -> {
                            if (i == 500) {
                                throw boom;
                            }
                            return i;
                        })
                        .listener(AuditListener.to(writer))
                        .to(Sink.count())
                        .run())
                .isInstanceOf(PipelineFailedException.class);

        AuditEvent e = eventsAfterClose().get(0);
        assertThat(e.success()).isFalse();
        assertThat(e.outcome()).isEqualTo(Outcome.FAILED.name());
        assertThat(e.errorMessage()).isEqualTo("IllegalStateException: bad row 500");
        assertThat(e.additionalData()).containsEntry("failedStage", "map");
        assertThat(e.itemCount()).isLessThanOrEqualTo(500);
    }

    @Test
    void aCancelledRunIsRecordedAsCancelled() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        PipelineHandle<Long> handle = Pipeline.from(Source.generate(() -> {
                    started.countDown();
                    return 1;
                }))
                .pipelineName("endless")
                .listener(AuditListener.to(writer))
                .to(Sink.count())
                .start();
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

        handle.cancel();

        assertThatThrownBy(handle::await).isInstanceOf(PipelineCancelledException.class);
        AuditEvent e = eventsAfterClose().get(0);
        assertThat(e.outcome()).isEqualTo("CANCELLED");
        assertThat(e.success()).isFalse();
        assertThat(e.errorMessage()).isEqualTo("the run was cancelled");
    }

    @Test
    void attributesRecordedByStagesGoIntoTheEvent() throws Exception {
        // given a source that records what a gRPC source records, and an object of its own
        Source<Integer> grpcLike = emitter -> {
            emitter.context()
                    .attribute(AuditListener.METHOD_ATTRIBUTE, "workflow.WorkflowService/GetUsersOnlineStream");
            emitter.context().attribute(AuditListener.ATTEMPTS_ATTRIBUTE, 4);
            emitter.context().attribute(AuditListener.RESUMES_ATTRIBUTE, 2L);
            emitter.context().attribute("grpc.status", Outcome.COMPLETED);
            emitter.context().attribute("endpoints", List.of("a:1", "b:2"));
            emitter.context().attribute("opaque", new Object() {
                @Override
                public String toString() {
                    return "opaque-thing";
                }
            });
            for (int i = 0; i < 10; i++) {
                emitter.emit(i);
            }
        };

        // when it runs
        Pipeline.from(grpcLike)
                .pipelineName("users-stream")
                .listener(AuditListener.to(writer))
                .to(Sink.count())
                .run();

        // then the event is a gRPC stream's, with retries, resumes and every attribute
        AuditEvent e = eventsAfterClose().get(0);
        assertThat(e.eventType()).isEqualTo(AuditEvent.GRPC_STREAMING);
        assertThat(e.methodName()).isEqualTo("users-stream");
        assertThat(e.retries()).isEqualTo(3);
        assertThat(e.resumes()).isEqualTo(2);
        assertThat(e.additionalData().get("attributes"))
                .isEqualTo(Map.of(
                        "grpc.method",
                        "workflow.WorkflowService/GetUsersOnlineStream",
                        "grpc.attempts",
                        4,
                        "grpc.resumes",
                        2,
                        "grpc.status",
                        "COMPLETED",
                        "endpoints",
                        List.of("a:1", "b:2"),
                        "opaque",
                        "opaque-thing"));
    }

    @Test
    void aLongRunWritesARunningRowThatItsFinishedEventReplaces() throws Exception {
        // given a run that holds until released, audited into SQLite with a running row after 100 ms
        JdbcAuditSink sqlite = JdbcAuditSink.sqlite(dir.resolve("long.db"));
        AuditWriter sqliteWriter = AuditWriter.builder(sqlite).logEvents(false).build();
        CountDownLatch release = new CountDownLatch(1);
        PipelineHandle<Long> handle = Pipeline.from((Source<Integer>) emitter -> {
                    emitter.emit(1);
                    release.await();
                    emitter.emit(2);
                })
                .pipelineName("nightly")
                .listener(AuditListener.to(sqliteWriter).startedRowAfter(Duration.ofMillis(100)), Duration.ofMillis(20))
                .to(Sink.count())
                .start();

        // then, while it runs, the table shows it running
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !sqlite.findByCorrelationId(handle.correlationId()).isEmpty());
        AuditEvent running = sqlite.findByCorrelationId(handle.correlationId()).get(0);
        assertThat(running.running()).isTrue();
        assertThat(running.outcome()).isEqualTo(AuditEvent.RUNNING);
        assertThat(running.durationMs()).isGreaterThanOrEqualTo(100);

        // when it ends
        release.countDown();
        handle.await();
        sqliteWriter.close(Duration.ofSeconds(5));

        // then the same row holds the finished event
        List<AuditEvent> after = sqlite.findByCorrelationId(handle.correlationId());
        assertThat(after).singleElement().satisfies(e -> {
            assertThat(e.eventId()).isEqualTo(running.eventId());
            assertThat(e.outcome()).isEqualTo("COMPLETED");
            assertThat(e.itemCount()).isEqualTo(2);
        });
    }

    @Test
    void aShortRunWritesNoRunningRow() throws Exception {
        Pipeline.from(Source.range(0, 10))
                .listener(AuditListener.to(writer))
                .to(Sink.count())
                .run();

        assertThat(eventsAfterClose()).singleElement().matches(e -> !e.running());
    }

    @Test
    void startedRowAfterZeroWritesTheRunningRowAsTheRunStarts() throws Exception {
        ControllableSink sink = new ControllableSink();
        AuditWriter w = AuditWriter.builder(sink).logEvents(false).build();
        Pipeline.from(Source.range(0, 10))
                .listener(AuditListener.to(w).startedRowAfter(Duration.ZERO))
                .to(Sink.count())
                .run();
        w.close(Duration.ofSeconds(5));

        assertThat(w.report().submitted()).isEqualTo(2);
        assertThat(sink.store.events()).singleElement().matches(e -> !e.running() && e.itemCount() == 10);
    }

    @Test
    void concurrentRunsOfOnePipelineEachGetTheirOwnEvent() throws Exception {
        var pipeline = Pipeline.from(Source.range(0, 100))
                .pipelineName("many")
                .listener(AuditListener.to(writer).startedRowAfter(Duration.ZERO))
                .to(Sink.count());
        List<PipelineHandle<Long>> handles = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            handles.add(pipeline.start());
        }
        List<String> ids = new ArrayList<>();
        for (PipelineHandle<Long> h : handles) {
            h.await();
            ids.add(h.correlationId());
        }

        List<AuditEvent> events = eventsAfterClose();
        assertThat(events).hasSize(20).allMatch(e -> !e.running() && e.itemCount() == 100);
        assertThat(events).extracting(AuditEvent::correlationId).containsExactlyInAnyOrderElementsOf(ids);
    }

    @Test
    void aClosedWriterNeverBreaksTheRun() throws Exception {
        writer.close(Duration.ofSeconds(5));

        PipelineResult<Long> result = Pipeline.from(Source.range(0, 10))
                .listener(AuditListener.to(writer))
                .to(Sink.count())
                .run();

        assertThat(result.value()).isEqualTo(10);
        assertThat(writer.report().dropped()).isEqualTo(1);
    }

    @Test
    void attributesTooLargeForTheEventAreLeftOutAndTheRunStillRecorded() throws Exception {
        Pipeline.from((Source<Integer>) emitter -> {
                    emitter.context().attribute("huge", "x".repeat(2_000_000));
                    emitter.emit(1);
                })
                .listener(AuditListener.to(writer))
                .to(Sink.count())
                .run();

        AuditEvent e = eventsAfterClose().get(0);
        assertThat(e.itemCount()).isEqualTo(1);
        assertThat(e.additionalData().get("attributes"))
                .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                .extractingByKey("attributesRefused")
                .asString()
                .contains("the limit is 1048576");
    }
}
