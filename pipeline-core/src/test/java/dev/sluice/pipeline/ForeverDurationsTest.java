package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A duration too long to count in nanoseconds is how "never" is often written ({@code Duration.ofMillis(Long.MAX_VALUE)},
 * {@code ChronoUnit.FOREVER.getDuration()}): every setting that takes a positive duration accepts it and treats it as
 * "not in this run's lifetime".
 */
@Timeout(30)
class ForeverDurationsTest {

    static List<Duration> forever() {
        return List.of(Duration.ofMillis(Long.MAX_VALUE), ChronoUnit.FOREVER.getDuration(), Duration.ofDays(106_752));
    }

    @ParameterizedTest
    @MethodSource("forever")
    void aWatchdogThatNeverReportsLetsTheRunCompleteAndTellEveryItem(Duration never) throws Exception {
        AckRecorder acks = new AckRecorder(3);
        List<Long> out = Pipeline.from(acks.source())
                .watchdog(never)
                .to(Sink.toList())
                .run()
                .value();
        assertThat(out).containsExactly(0L, 1L, 2L);
        acks.assertEachToldOnce();
        assertThat(acks.counts()).containsExactly(java.util.Map.entry(Disposition.PROCESSED, 3));
    }

    @ParameterizedTest
    @MethodSource("forever")
    void aWatchdogThatNeverReportsStillLetsATakeFinishTheRun(Duration never) throws Exception {
        // the watchdog's interval also paces the reports of stages left behind by a take
        List<Long> out = Pipeline.from(Source.range(0, 1_000))
                .watchdog(never)
                .take(2)
                .to(Sink.toList())
                .run()
                .value();
        assertThat(out).containsExactly(0L, 1L);
    }

    @ParameterizedTest
    @MethodSource("forever")
    void aBatchThatNeverWaitsOutItsTimeIsPassedOnWhenFullOrAtTheEnd(Duration never) throws Exception {
        List<List<Integer>> out = Pipeline.from(Source.of(1, 2, 3, 4, 5))
                .batch(2, never)
                .to(Sink.toList())
                .run()
                .value();
        assertThat(out).containsExactly(List.of(1, 2), List.of(3, 4), List.of(5));
    }

    @ParameterizedTest
    @MethodSource("forever")
    void aListenerWhoseProgressIsNeverDueStillHearsTheStartAndTheEnd(Duration never) throws Exception {
        AtomicReference<PipelineSnapshot> started = new AtomicReference<>();
        AtomicReference<PipelineSummary> finished = new AtomicReference<>();
        PipelineListener listener = new PipelineListener() {
            @Override
            public void onStart(PipelineSnapshot start) {
                started.set(start);
            }

            @Override
            public void onProgress(PipelineSnapshot progress) {
                throw new AssertionError("progress is never due");
            }

            @Override
            public void onFinish(PipelineSummary summary) {
                finished.set(summary);
            }
        };
        long count = Pipeline.from(Source.range(0, 100))
                .listener(listener, never)
                .to(Sink.count())
                .run()
                .value();
        assertThat(count).isEqualTo(100);
        assertThat(started.get()).isNotNull();
        assertThat(finished.get().outcome()).isEqualTo(Outcome.COMPLETED);
    }

    @ParameterizedTest
    @MethodSource("forever")
    void aScopeWhoseStragglersAreNeverReportedJoinsAndCloses(Duration never) throws Exception {
        try (Scope scope = Scope.builder().stragglerReportInterval(never).open()) {
            Fork<Integer> one = scope.fork("one", () -> 1);
            scope.join();
            assertThat(one.result()).isEqualTo(1);
        }
    }

    @Test
    void aScopeWhoseStragglersAreNeverReportedStillCancelsAndWaitsForItsForks() throws Exception {
        Fork<Object> sleeper;
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        try (Scope scope = Scope.builder()
                .stragglerReportInterval(Duration.ofMillis(Long.MAX_VALUE))
                .open()) {
            sleeper = scope.fork("sleeper", () -> {
                started.countDown();
                never.await(); // until close() cancels the fork
                return null;
            });
            started.await();
        }
        // close() cancelled the fork and waited for it: it is done, interrupted
        assertThat(sleeper.isDone()).isTrue();
        assertThat(sleeper.failure()).get().isInstanceOf(InterruptedException.class);
    }
}
