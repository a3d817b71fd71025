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
        assertThatThrownBy(job::await)
                .isInstanceOfSatisfying(
                        PipelineCancelledException.class,
                        e -> assertThat(e.summary().outcome()).isEqualTo(Outcome.CANCELLED));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(100)).isLessThan(Duration.ofSeconds(5));
        assertThat(job.activeThreadCount()).isZero();
    }

    @Test
    void stopEndsASourceBlockedInItsOwnWait() throws Exception {
        // A source waiting for data that never comes (a quiet stream) still stops at once.
        Channel<Long> quiet = Channel.bounded(1);
        PipelineHandle<Long> job =
                Pipeline.from(Source.from(quiet)).to(Sink.count()).start();
        quiet.send(1L);
        await().atMost(Duration.ofSeconds(5)).until(() -> job.snapshot().itemCount() == 1);
        job.stop(Duration.ofSeconds(10));
        PipelineResult<Long> result = job.await(Duration.ofSeconds(5));
        assertThat(result.outcome()).isEqualTo(Outcome.STOPPED);
        assertThat(result.value()).isEqualTo(1);
    }

    @Test
    void stopDeliversWhatAChannelSourceHadAlreadyTakenFromItsChannel() throws Exception {
        // given an inbox channel that is never closed, and a pipeline slower than the inbox
        Channel<Long> inbox = Channel.bounded(1_000);
        for (long i = 0; i < 500; i++) {
            inbox.send(i);
        }
        List<Long> delivered = new CopyOnWriteArrayList<>();
        PipelineHandle<Long> job = Pipeline.from(Source.from(inbox))
                .buffer(4)
                .map(x -> {
                    Thread.sleep(1); // a simulated slow stage: the source waits for room with items in hand
                    return x;
                })
                .to(Sink.forEach(delivered::add))
                .start();
        await().atMost(Duration.ofSeconds(10)).until(() -> delivered.size() > 20);
        // when
        job.stop(Duration.ofSeconds(30));
        PipelineResult<Long> result = job.await();
        // then: each item is either delivered or still in the inbox; none is lost in between
        List<Long> left = new java.util.ArrayList<>();
        inbox.drainTo(left, Integer.MAX_VALUE);
        assertThat(result.outcome()).isEqualTo(Outcome.STOPPED);
        assertThat(delivered.size() + left.size()).isEqualTo(500);
        assertThat(delivered)
                .isEqualTo(java.util.stream.LongStream.range(0, delivered.size())
                        .boxed()
                        .toList());
        assertThat(result.summary().stage("source").orElseThrow().itemsOut()).isEqualTo(delivered.size());
    }

    @Test
    void stopDeliversWhatAPublisherHadAlreadySent() throws Exception {
        // given a publisher of 10,000 items and a slow pipeline: up to a prefetch of them are in the source's hands
        java.util.concurrent.SubmissionPublisher<Long> publisher =
                new java.util.concurrent.SubmissionPublisher<>(Runnable::run, 64);
        List<Long> delivered = new CopyOnWriteArrayList<>();
        AtomicLong published = new AtomicLong();
        AtomicLong handedToThePipeline = new AtomicLong();
        java.util.concurrent.Flow.Publisher<Long> counting =
                subscriber -> publisher.subscribe(new java.util.concurrent.Flow.Subscriber<Long>() {
                    @Override
                    public void onSubscribe(java.util.concurrent.Flow.Subscription subscription) {
                        subscriber.onSubscribe(subscription);
                    }

                    @Override
                    public void onNext(Long item) {
                        handedToThePipeline.incrementAndGet();
                        subscriber.onNext(item);
                    }

                    @Override
                    public void onError(Throwable throwable) {
                        subscriber.onError(throwable);
                    }

                    @Override
                    public void onComplete() {
                        subscriber.onComplete();
                    }
                });
        PipelineHandle<Long> job = Pipeline.from(Source.fromPublisher(counting, 32))
                .buffer(4)
                .map(x -> {
                    Thread.sleep(1); // a simulated slow stage: the publisher runs ahead into the prefetch
                    return x;
                })
                .to(Sink.forEach(delivered::add))
                .start();
        await().atMost(Duration.ofSeconds(10)).until(() -> publisher.getNumberOfSubscribers() == 1);
        Thread feeder = Thread.ofVirtual().start(() -> {
            for (long i = 0; i < 10_000 && publisher.hasSubscribers(); i++) {
                publisher.submit(i); // waits while the subscriber's buffer is full: the publisher's backpressure
                published.incrementAndGet();
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> delivered.size() > 20);
        // when
        job.stop(Duration.ofSeconds(30));
        PipelineResult<Long> result = job.await();
        publisher.close();
        feeder.join();
        // then: everything the publisher handed to the pipeline before the cancel went through, in order
        assertThat(result.outcome()).isEqualTo(Outcome.STOPPED);
        assertThat((long) delivered.size()).isEqualTo(handedToThePipeline.get());
        assertThat(delivered)
                .isEqualTo(java.util.stream.LongStream.range(0, delivered.size())
                        .boxed()
                        .toList());
        assertThat(result.summary().stage("source").orElseThrow().itemsOut()).isEqualTo(delivered.size());
    }
}
