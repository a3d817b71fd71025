package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code stop(grace)}: the source stops, what is inside drains, or is cancelled when the grace runs out. */
@Timeout(60)
class GracefulStopTest {

    @Test
    void stopDeliversEveryItemAlreadyInsideWhenTheGraceAllows() throws Exception {
        // given a consumer-style job: an endless source and a slowish sink
        AtomicLong emitted = new AtomicLong();
        List<Long> written = new CopyOnWriteArrayList<>();
        Source<Long> endless = emitter -> {
            for (long i = 0; ; i++) {
                emitter.emit(i);
                emitted.incrementAndGet(); // counted once the pipeline has taken it
            }
        };
        PipelineHandle<Long> job = Pipeline.from(endless)
                .map(x -> x)
                .buffer(32)
                .to(Sink.forEach(x -> {
                    Thread.sleep(0, 100_000); // a simulated slow write
                    written.add(x);
                }))
                .start();
        await().atMost(Duration.ofSeconds(10)).until(() -> written.size() > 100);
        // when
        job.stop(Duration.ofSeconds(30));
        PipelineResult<Long> result = job.await();
        // then: everything the source handed over was written, in order, and nothing else
        assertThat(result.outcome()).isEqualTo(Outcome.STOPPED);
        assertThat(result.value()).isEqualTo(emitted.get());
        assertThat(written).hasSize((int) emitted.get());
        for (int i = 0; i < written.size(); i++) {
            assertThat(written.get(i)).isEqualTo(i);
        }
    }

    @Test
    void stopCancelsWhatRemainsWhenTheGraceRunsOut() throws Exception {
        CountDownLatch sinkStuck = new CountDownLatch(1);
        PipelineHandle<Long> job = Pipeline.from(Source.generate(() -> 1L))
                .to(Sink.forEach(x -> {
                    sinkStuck.countDown();
                    Thread.sleep(Duration.ofHours(1)); // can never drain
                }))
                .start();
        sinkStuck.await();
        long start = System.nanoTime();
        job.stop(Duration.ofMillis(100));
        assertThatThrownBy(job::await).isInstanceOfSatisfying(PipelineCancelledException.class,
                e -> assertThat(e.summary().outcome()).isEqualTo(Outcome.CANCELLED));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(100)).isLessThan(Duration.ofSeconds(5));
        assertThat(job.activeThreadCount()).isZero();
    }

    @Test
    void stopEndsASourceBlockedInItsOwnWait() throws Exception {
        // A source waiting for data that never comes (a quiet stream) still stops at once.
        Channel<Long> quiet = Channel.bounded(1);
        PipelineHandle<Long> job = Pipeline.from(Source.from(quiet)).to(Sink.count()).start();
        quiet.send(1L);
        await().atMost(Duration.ofSeconds(5)).until(() -> job.snapshot().itemCount() == 1);
        job.stop(Duration.ofSeconds(10));
        PipelineResult<Long> result = job.await(Duration.ofSeconds(5));
        assertThat(result.outcome()).isEqualTo(Outcome.STOPPED);
        assertThat(result.value()).isEqualTo(1);
    }
}
