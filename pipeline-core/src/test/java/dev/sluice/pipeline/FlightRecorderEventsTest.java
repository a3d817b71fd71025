package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import jdk.jfr.ValueDescriptor;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a run puts on a flight recording: a {@code dev.sluice.PipelineRun} event spanning each run, and a
 * {@code dev.sluice.StuckStage} event for each watchdog report of a stage that ignores interruption.
 */
@Timeout(60)
class FlightRecorderEventsTest {

    private static final String RUN = "dev.sluice.PipelineRun";
    private static final String STUCK = "dev.sluice.StuckStage";

    @Test
    void aCompletedRunIsRecordedWithItsOutcomeAndItsItemsInAndOut() throws Exception {
        try (Recorded recorded = new Recorded(RUN)) {
            // when a run takes 100 items from its source and lets half of them through
            PipelineResult<Long> result = Pipeline.from(Source.range(0, 100))
                    .pipelineName("jfr-completed")
                    .filter(x -> x % 2 == 0)
                    .to(Sink.count())
                    .run();

            // then one event spans the run and says how it ended
            RecordedEvent run = recorded.awaitOne(RUN, e -> "jfr-completed".equals(e.getString("pipeline")));
            assertThat(run.getString("correlationId")).isEqualTo(result.correlationId());
            assertThat(run.getString("runId"))
                    .isEqualTo(result.summary().runId().toString());
            assertThat(run.getString("outcome")).isEqualTo("completed");
            assertThat(run.getLong("itemsIn")).isEqualTo(100);
            assertThat(run.getLong("itemsOut")).isEqualTo(50);
            assertThat(run.getString("failedStage")).isNull();
            assertThat(run.getDuration()).isPositive();
            assertThat(run.getEventType().getCategoryNames()).containsExactly("Sluice", "Pipeline");
            assertThat(run.getEventType().getLabel()).isEqualTo("Pipeline Run");
            assertThat(ownFields(run)).as("docs/metrics.md").containsExactlyInAnyOrderElementsOf(documentedFields(RUN));
        }
    }

    @Test
    void aFailedRunIsRecordedWithTheStageThatFailedAndItsException() throws Exception {
        try (Recorded recorded = new Recorded(RUN)) {
            // when a stage fails on the fourth item
            assertThatThrownBy(() -> Pipeline.from(Source.range(0, 10))
                            .pipelineName("jfr-failed")
                            .map(x -> {
                                if (x == 3) {
                                    throw new IllegalStateException("no threes");
                                }
                                return x;
                            })
                            .named("picky")
                            .to(Sink.count())
                            .run())
                    .isInstanceOf(PipelineFailedException.class);

            // then the run's event names the stage and the exception
            RecordedEvent run = recorded.awaitOne(RUN, e -> "jfr-failed".equals(e.getString("pipeline")));
            assertThat(run.getString("outcome")).isEqualTo("failed");
            assertThat(run.getString("failedStage")).isEqualTo("picky");
            assertThat(run.getString("failure")).isEqualTo("IllegalStateException: no threes");
        }
    }

    @Test
    void aStageThatIgnoresCancellationIsRecordedAsStuckPastTheWatchdogInterval() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch inside = new CountDownLatch(1);
        try (Recorded recorded = new Recorded(STUCK)) {
            // given a stage that goes on waiting when interrupted, in a run with a 100 ms watchdog
            PipelineHandle<Long> handle = Pipeline.from(Source.of(1L))
                    .pipelineName("jfr-stuck")
                    .map(x -> {
                        inside.countDown();
                        awaitIgnoringInterrupts(release);
                        return x;
                    })
                    .named("stubborn")
                    .watchdog(Duration.ofMillis(100))
                    .to(Sink.count())
                    .start();
            inside.await();

            // when the run is cancelled
            handle.cancel();

            // then the stage is recorded as stuck, with how long and the threshold it passed
            RecordedEvent stuck = recorded.awaitOne(STUCK, e -> "jfr-stuck".equals(e.getString("pipeline")));
            release.countDown();
            assertThatThrownBy(handle::await).isInstanceOf(PipelineCancelledException.class);
            assertThat(stuck.getString("stage")).isEqualTo("stubborn");
            assertThat(stuck.getString("correlationId")).isEqualTo(handle.correlationId());
            assertThat(stuck.getDuration("threshold")).isEqualTo(Duration.ofMillis(100));
            assertThat(stuck.getDuration("stuckFor")).isGreaterThanOrEqualTo(Duration.ofMillis(100));
            assertThat(stuck.getString("cause")).isEqualTo("the run was aborted: cancelled");
            assertThat(stuck.getString("stageThread")).startsWith("jfr-stuck#").endsWith("/stubborn");
            assertThat(stuck.getString("where")).contains("awaitIgnoringInterrupts");
            assertThat(ownFields(stuck))
                    .as("docs/metrics.md")
                    .containsExactlyInAnyOrderElementsOf(documentedFields(STUCK));
        }
    }

    @Test
    void aStageLeftRunningAfterATakeIsRecordedAsStuck() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (Recorded recorded = new Recorded(STUCK)) {
            // given a source that ignores the interrupt take(1) sends it
            Source<Long> stubborn = emitter -> {
                emitter.emit(1L);
                awaitIgnoringInterrupts(release);
            };
            PipelineHandle<Long> handle = Pipeline.from(stubborn)
                    .named("lingering")
                    .pipelineName("jfr-take")
                    .watchdog(Duration.ofMillis(100))
                    .take(1)
                    .to(Sink.count())
                    .start();

            // then it is recorded as stuck once the stages after it finished
            RecordedEvent stuck = recorded.awaitOne(STUCK, e -> "jfr-take".equals(e.getString("pipeline")));
            release.countDown();
            assertThat(handle.await().value()).isEqualTo(1);
            assertThat(stuck.getString("stage")).isEqualTo("lingering");
            assertThat(stuck.getString("cause")).isEqualTo("the stages after it finished early");
            assertThat(stuck.getDuration("stuckFor")).isGreaterThanOrEqualTo(Duration.ofMillis(100));
        }
    }

    /** Waits for {@code latch}, going back to waiting when interrupted: a stage deaf to cancellation. */
    private static void awaitIgnoringInterrupts(CountDownLatch latch) {
        for (; ; ) {
            try {
                latch.await();
                return;
            } catch (InterruptedException ignored) {
                // deaf on purpose
            }
        }
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

    /** A recording of the named events, streamed into a list as JFR flushes them (about once a second). */
    private static final class Recorded implements AutoCloseable {
        private final RecordingStream stream = new RecordingStream();
        private final List<RecordedEvent> events = new CopyOnWriteArrayList<>();

        Recorded(String... names) {
            for (String name : names) {
                stream.enable(name);
                stream.onEvent(name, events::add);
            }
            stream.setReuse(false); // the events are kept: each must be an object of its own
            stream.startAsync();
        }

        RecordedEvent awaitOne(String name, Predicate<RecordedEvent> which) {
            return await().atMost(Duration.ofSeconds(10))
                    .until(
                            () -> events.stream()
                                    .filter(e -> e.getEventType().getName().equals(name))
                                    .filter(which)
                                    .findFirst(),
                            Optional::isPresent)
                    .orElseThrow();
        }

        @Override
        public void close() {
            stream.close();
        }
    }
}
