package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link Emitter#handOver} from a source written the way a user writes one: records taken from an input that forgets
 * them once handed out (a broker client with auto-acknowledgement, a socket) reach the sink even when a graceful
 * stop comes while the source holds them.
 */
@Timeout(60)
class SourceHandOverTest {

    /**
     * A user's source over a {@code broker} that forgets what it hands out: it takes up to {@code batch} records at a
     * time and passes them on one by one (as a source that maps or logs each record would).
     */
    private static Source<Long> brokerSource(BlockingQueue<Long> broker, int batch) {
        return emitter -> {
            List<Long> inHand = new ArrayList<>(batch);
            for (; ; ) {
                Long first = broker.poll(1, TimeUnit.SECONDS); // an interruptible wait for input: a stop ends it
                if (first == null) {
                    continue;
                }
                inHand.add(first);
                broker.drainTo(inHand, batch - 1);
                for (Long record : inHand) {
                    emitter.handOver(List.of(record)); // taken from the broker: must not be lost
                }
                inHand.clear();
            }
        };
    }

    private static BlockingQueue<Long> brokerHolding(long records) {
        BlockingQueue<Long> broker = new LinkedBlockingQueue<>();
        LongStream.range(0, records).forEach(broker::add);
        return broker;
    }

    @Test
    void aStopWhileTheSourceHoldsRecordsDeliversEveryOneOfThem() throws Exception {
        // given a broker of 100 records, a source that takes 10 at a time, and a sink that is held after its first
        BlockingQueue<Long> broker = brokerHolding(100);
        CountDownLatch release = new CountDownLatch(1);
        List<Long> written = new CopyOnWriteArrayList<>();
        PipelineHandle<Long> job = Pipeline.from(brokerSource(broker, 10))
                .buffer(1)
                .to(Sink.forEach(x -> {
                    release.await();
                    written.add(x);
                }))
                .start();
        // the sink holds record 0, the link record 1, and the source waits with records 2..9 in hand
        await().atMost(Duration.ofSeconds(10))
                .until(() -> job.snapshot().stage("source").orElseThrow().itemsOut() == 2);
        assertThat(broker).hasSize(90);
        // when
        job.stop(Duration.ofSeconds(30));
        release.countDown();
        PipelineResult<Long> result = job.await(Duration.ofSeconds(10));
        // then: the ten records the source had taken were all written; the rest stay with the broker
        assertThat(result.outcome()).isEqualTo(Outcome.STOPPED);
        assertThat(written).isEqualTo(LongStream.range(0, 10).boxed().toList());
        assertThat(broker).hasSize(90).first().isEqualTo(10L);
        assertThat(result.summary().stage("source").orElseThrow().itemsOut()).isEqualTo(10);
    }

    @Test
    void emitRefusesAfterAStopWhatHandOverWouldDeliver() throws Exception {
        // given the same setup, with emit where the source above hands over
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Throwable> refused = new AtomicReference<>();
        List<Long> written = new CopyOnWriteArrayList<>();
        Source<Long> emitting = emitter -> {
            try {
                for (long record = 0; record < 10; record++) {
                    emitter.emit(record);
                }
            } catch (InterruptedException e) {
                refused.set(e);
                throw e;
            }
        };
        PipelineHandle<Long> job = Pipeline.from(emitting)
                .buffer(1)
                .to(Sink.forEach(x -> {
                    release.await();
                    written.add(x);
                }))
                .start();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> job.snapshot().stage("source").orElseThrow().itemsOut() == 2);
        // when
        job.stop(Duration.ofSeconds(30));
        release.countDown();
        PipelineResult<Long> result = job.await(Duration.ofSeconds(10));
        // then: the emit under way when the stop came is delivered, the next is refused
        assertThat(result.outcome()).isEqualTo(Outcome.STOPPED);
        assertThat(written).containsExactly(0L, 1L, 2L);
        assertThat(refused.get()).isInstanceOf(InterruptedException.class);
    }

    @RepeatedTest(30)
    void aStopAtAnyMomentLosesNoRecordTheSourceHadTaken() throws Exception {
        // given 5,000 records, a source taking up to 32 at a time, a sink slower than the broker
        BlockingQueue<Long> broker = brokerHolding(5_000);
        List<Long> written = new CopyOnWriteArrayList<>();
        PipelineHandle<Long> job = Pipeline.from(brokerSource(broker, 32))
                .buffer(4)
                .map(x -> {
                    if (x % 16 == 0) {
                        Thread.sleep(0, 200_000);
                    }
                    return x;
                })
                .to(Sink.forEach(written::add))
                .start();
        // when stopped at a random moment
        long afterItems = ThreadLocalRandom.current().nextLong(0, 2_000);
        await().atMost(Duration.ofSeconds(20)).until(() -> written.size() >= afterItems || job.isDone());
        job.stop(Duration.ofSeconds(30));
        PipelineResult<Long> result = job.await(Duration.ofSeconds(30));
        // then: every record is written once, in order, or still with the broker
        assertThat(result.outcome()).isEqualTo(Outcome.STOPPED);
        List<Long> all = new ArrayList<>(written);
        broker.drainTo(all);
        assertThat(all).isEqualTo(LongStream.range(0, 5_000).boxed().toList());
    }

    @Test
    void aCancelEndsAHandOverAtOnce() throws Exception {
        // given a source handing over a group while the sink never takes another item
        CountDownLatch sinkHeld = new CountDownLatch(1);
        AtomicReference<Throwable> handOverEnded = new AtomicReference<>();
        Source<Long> source = emitter -> {
            try {
                emitter.handOver(LongStream.range(0, 100).boxed().toList());
            } catch (InterruptedException e) {
                handOverEnded.set(e);
                throw e;
            }
        };
        PipelineHandle<Long> job = Pipeline.from(source)
                .buffer(1)
                .to(Sink.forEach(x -> {
                    sinkHeld.countDown();
                    Thread.sleep(Duration.ofHours(1));
                }))
                .start();
        sinkHeld.await();
        // when
        job.cancel();
        // then
        assertThatThrownBy(() -> job.await(Duration.ofSeconds(10))).isInstanceOf(PipelineCancelledException.class);
        assertThat(handOverEnded.get()).isInstanceOf(InterruptedException.class);
        assertThat(job.activeThreadCount()).isZero();
    }

    @Test
    void aNullGroupOrANullRecordIsRefusedBeforeAnyIsSent() {
        List<Long> withNull = Arrays.asList(1L, null);
        Source<Long> nullRecord = emitter -> emitter.handOver(withNull);
        Source<Long> nullGroup = emitter -> emitter.handOver(null);

        assertThatThrownBy(() -> Pipeline.from(nullRecord)
                        .pipelineName("feed")
                        .to(Sink.toList())
                        .run())
                .isInstanceOf(PipelineFailedException.class)
                .rootCause()
                .isInstanceOf(NullPointerException.class)
                .hasMessage("the source of pipeline 'feed' handed over null in a group");
        assertThatThrownBy(() -> Pipeline.from(nullGroup)
                        .pipelineName("feed")
                        .to(Sink.toList())
                        .run())
                .isInstanceOf(PipelineFailedException.class)
                .rootCause()
                .isInstanceOf(NullPointerException.class)
                .hasMessage("the source of pipeline 'feed' handed over a null list");
    }

    @Test
    void anEmitterMadeElsewhereHandsOverWithEmitAll() throws Exception {
        // given an emitter that is not a pipeline's (a user's test double), which has no stop to survive
        List<Long> seen = new ArrayList<>();
        Emitter<Long> collecting = new Emitter<>() {
            @Override
            public void emit(Long item) {
                seen.add(item);
            }

            @Override
            public void emitAll(List<? extends Long> items) {
                seen.addAll(items);
            }

            @Override
            public StageContext context() {
                throw new UnsupportedOperationException();
            }
        };
        // when
        collecting.handOver(List.of(1L, 2L));
        // then
        assertThat(seen).containsExactly(1L, 2L);
    }
}
