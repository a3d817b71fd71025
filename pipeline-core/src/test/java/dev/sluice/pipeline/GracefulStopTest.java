package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sluice.pipeline.internal.PublisherSource;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

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
    void aStopAfterTheSinkHasCompletedLeavesTheRunCompleted() throws Exception {
        // given a run whose sink has its value while a straggling source (deaf to interrupts) keeps the run open
        CountDownLatch release = new CountDownLatch(1);
        Source<Integer> straggler = emitter -> {
            emitter.emit(1);
            boolean interrupted = false;
            while (true) {
                try {
                    release.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the take's, then the stop's: ignored until released
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        };
        PipelineHandle<List<Integer>> job =
                Pipeline.from(straggler).take(1).to(Sink.toList()).start();
        try {
            // the sink took the item and its thread has ended, as has the take's: only the source's is left
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> job.snapshot().stage("toList").orElseThrow().itemsIn() == 1
                            && job.activeThreadCount() == 1);
            // when a shutdown hook stops it
            job.stop(Duration.ofSeconds(30));
        } finally {
            release.countDown();
        }
        // then the run had completed before the stop: its outcome says so
        PipelineResult<List<Integer>> result = job.await(Duration.ofSeconds(10));
        assertThat(result.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(result.value()).containsExactly(1);
    }

    @Test
    void stopEndsASourceBlockedInItsOwnWait() throws Exception {
        // A source waiting for data that never comes (a quiet stream) still stops at once.
        Channel<Long> quiet = Channel.bounded(1);
        PipelineHandle<Long> job =
                Pipeline.from(Source.fromChannel(quiet)).to(Sink.count()).start();
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
        PipelineHandle<Long> job = Pipeline.from(Source.fromChannel(inbox))
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

    // ------------------------------------------------------------------ a publisher racing the stop's cancel

    /** How many runs each race test makes, each stopped at a random moment. */
    private static final int RACES = 300;

    /**
     * A publisher that emits 0, 1, 2, ... to one subscriber from a thread of its own, as fast as the demand allows,
     * and stops at the first check after a cancel. It counts every item it hands to {@code onNext}, before the call.
     */
    private static final class RacingPublisher implements Flow.Publisher<Long> {
        private final AtomicLong demand = new AtomicLong();
        private volatile boolean cancelled;
        private volatile long signalled;
        private volatile Thread emitter;

        @Override
        public void subscribe(Flow.Subscriber<? super Long> subscriber) {
            Thread t = Thread.ofPlatform().daemon().name("racing-publisher").unstarted(() -> emit(subscriber));
            emitter = t;
            t.start();
        }

        private void emit(Flow.Subscriber<? super Long> subscriber) {
            subscriber.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {
                    demand.addAndGet(n);
                    LockSupport.unpark(emitter);
                }

                @Override
                public void cancel() {
                    cancelled = true;
                    LockSupport.unpark(emitter);
                }
            });
            for (long next = 0; !cancelled; ) {
                if (demand.get() == 0) {
                    LockSupport.park(this);
                    continue;
                }
                demand.decrementAndGet();
                signalled = next + 1; // one writer: this thread
                subscriber.onNext(next++);
            }
        }

        /** The items handed to onNext, once the emitting thread has stopped. */
        long signalledOnceStopped() throws InterruptedException {
            Thread t = emitter;
            assertThat(t.join(Duration.ofSeconds(10)))
                    .as("the publisher stops after the cancel")
                    .isTrue();
            return signalled;
        }
    }

    /** A publisher that records, before passing it on, every item the one it wraps hands to {@code onNext}. */
    private static final class RecordingPublisher implements Flow.Publisher<Long> {
        private final Flow.Publisher<Long> inner;
        private final java.util.Queue<Long> signalled = new java.util.concurrent.ConcurrentLinkedQueue<>();

        RecordingPublisher(Flow.Publisher<Long> inner) {
            this.inner = inner;
        }

        @Override
        public void subscribe(Flow.Subscriber<? super Long> subscriber) {
            inner.subscribe(new Flow.Subscriber<Long>() {
                @Override
                public void onSubscribe(Flow.Subscription subscription) {
                    subscriber.onSubscribe(subscription);
                }

                @Override
                public void onNext(Long item) {
                    signalled.add(item);
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
        }
    }

    /** The publisher source's WARN lines that report an item signalled after a stop, and not taken. */
    private static final class NotTakenReports implements AutoCloseable {
        private final ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(PublisherSource.class);
        private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

        NotTakenReports() {
            appender.start();
            logger.addAppender(appender);
        }

        long about(String pipeline) {
            synchronized (appender) { // AppenderBase appends under its own monitor
                return appender.list.stream()
                        .filter(e -> e.getLevel() == Level.WARN)
                        .map(ILoggingEvent::getFormattedMessage)
                        .filter(m -> m.contains("'" + pipeline + "'") && m.contains("not taken"))
                        .count();
            }
        }

        @Override
        public void close() {
            logger.detachAppender(appender);
        }
    }

    /** Waits, polling every millisecond, until the run has moved at least {@code items}. */
    private static void awaitItems(PipelineHandle<?> job, long items) {
        await().atMost(Duration.ofSeconds(30))
                .pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(1))
                .until(() -> job.snapshot().itemCount() >= items || job.isDone());
    }

    /**
     * Every item signalled reached the sink once, in the order signalled, or was reported as not taken: the sink
     * holds a prefix of what was signalled, and the rest was reported.
     */
    private static void assertEverySignalledItemAccountedFor(
            String run, PipelineResult<Long> result, List<Long> sunk, List<Long> signalled, long notTaken) {
        assertThat(result.outcome()).as(run).isEqualTo(Outcome.STOPPED);
        int firstOutOfPlace = 0;
        while (firstOutOfPlace < sunk.size()
                && firstOutOfPlace < signalled.size()
                && sunk.get(firstOutOfPlace).equals(signalled.get(firstOutOfPlace))) {
            firstOutOfPlace++;
        }
        assertThat(firstOutOfPlace)
                .as(
                        "%s: the sink got what was signalled, in order, none twice, none missing; around the first"
                                + " difference, signalled %s, sunk %s",
                        run, around(signalled, firstOutOfPlace), around(sunk, firstOutOfPlace))
                .isEqualTo(sunk.size());
        assertThat(sunk.size() + notTaken)
                .as(
                        "%s: %d signalled, %d reached the sink, %d reported not taken",
                        run, signalled.size(), sunk.size(), notTaken)
                .isEqualTo(signalled.size());
    }

    private static List<Long> around(List<Long> items, int index) {
        return items.subList(Math.max(0, Math.min(items.size(), index - 3)), Math.min(items.size(), index + 3));
    }

    @Test
    @Timeout(300)
    void aStopLosesNoItemAPublisherEmittingFromItsOwnThreadHadSignalled() throws Exception {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        try (NotTakenReports reports = new NotTakenReports()) {
            for (int race = 0; race < RACES; race++) {
                // given a publisher racing ahead of the pipeline on its own thread
                RacingPublisher publisher = new RacingPublisher();
                List<Long> sunk = new java.util.ArrayList<>(); // the sink's thread only, read after await()
                String name = "racing-" + race;
                PipelineHandle<Long> job = Pipeline.from(Source.fromPublisher(publisher, 1 + random.nextInt(64)))
                        .pipelineName(name)
                        .to(Sink.forEach(sunk::add))
                        .start();
                // when the run is stopped at a random moment
                awaitItems(job, random.nextInt(2_000));
                job.stop(Duration.ofSeconds(30));
                PipelineResult<Long> result = job.await(Duration.ofSeconds(30));
                // then every item the publisher handed over is accounted for
                long signalled = publisher.signalledOnceStopped();
                List<Long> inOrder =
                        java.util.stream.LongStream.range(0, signalled).boxed().toList();
                assertEverySignalledItemAccountedFor(name, result, sunk, inOrder, reports.about(name));
            }
        }
    }

    @Test
    @Timeout(300)
    void aStopLosesNoItemASubmissionPublisherHadSignalled() throws Exception {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        try (NotTakenReports reports = new NotTakenReports()) {
            for (int race = 0; race < RACES; race++) {
                // given a SubmissionPublisher fed as fast as it takes items, delivering on a thread of its own
                java.util.concurrent.ExecutorService delivery =
                        java.util.concurrent.Executors.newSingleThreadExecutor();
                java.util.concurrent.SubmissionPublisher<Long> submission =
                        new java.util.concurrent.SubmissionPublisher<>(delivery, 1 << random.nextInt(8));
                RecordingPublisher publisher = new RecordingPublisher(submission);
                List<Long> sunk = new java.util.ArrayList<>();
                String name = "submission-" + race;
                PipelineHandle<Long> job = Pipeline.from(Source.fromPublisher(publisher, 1 + random.nextInt(64)))
                        .pipelineName(name)
                        .to(Sink.forEach(sunk::add))
                        .start();
                await().atMost(Duration.ofSeconds(10))
                        .pollInterval(Duration.ofMillis(1))
                        .until(() -> submission.getNumberOfSubscribers() == 1);
                java.util.concurrent.atomic.AtomicBoolean feeding = new java.util.concurrent.atomic.AtomicBoolean(true);
                Thread feeder = Thread.ofPlatform().daemon().start(() -> {
                    for (long i = 0; feeding.get(); i++) {
                        submission.submit(i); // waits while the subscriber's buffer is full
                    }
                });
                // when the run is stopped at a random moment
                awaitItems(job, random.nextInt(2_000));
                job.stop(Duration.ofSeconds(30));
                PipelineResult<Long> result = job.await(Duration.ofSeconds(30));
                feeding.set(false);
                feeder.join();
                submission.close();
                delivery.shutdown();
                assertThat(delivery.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
                // then every item the publisher handed over is accounted for
                // (after a cancel, a SubmissionPublisher may still deliver items submitted meanwhile, having dropped
                // those it held: what counts is what it handed to onNext)
                assertEverySignalledItemAccountedFor(
                        name, result, sunk, List.copyOf(publisher.signalled), reports.about(name));
            }
        }
    }

    @Test
    void anItemSignalledAfterTheStopEndedTheSourceIsReportedNotTaken() throws Exception {
        // given a publisher that hands out three items and keeps its subscriber
        java.util.concurrent.atomic.AtomicReference<Flow.Subscriber<? super Long>> subscriber =
                new java.util.concurrent.atomic.AtomicReference<>();
        Flow.Publisher<Long> publisher = s -> {
            subscriber.set(s);
            s.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {}

                @Override
                public void cancel() {}
            });
        };
        List<Long> sunk = new CopyOnWriteArrayList<>();
        try (NotTakenReports reports = new NotTakenReports()) {
            PipelineHandle<Long> job = Pipeline.from(Source.fromPublisher(publisher, 8))
                    .pipelineName("late-signal")
                    .to(Sink.forEach(sunk::add))
                    .start();
            await().atMost(Duration.ofSeconds(10)).until(() -> subscriber.get() != null);
            for (long i = 0; i < 3; i++) {
                subscriber.get().onNext(i);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> sunk.size() == 3);
            job.stop(Duration.ofSeconds(10));
            assertThat(job.await().outcome()).isEqualTo(Outcome.STOPPED);
            // when the publisher signals an item it still owed after the stop has ended the source
            subscriber.get().onNext(3L);
            // then onNext returns normally, the item is not taken, and that is said at WARN
            assertThat(sunk).containsExactly(0L, 1L, 2L);
            assertThat(reports.about("late-signal")).isEqualTo(1);
        }
    }

    @Test
    void aStopDeliversWhatAPublisherSentEvenIfItAnswersTheCancelWithAnError() throws Exception {
        // given a publisher that sends whatever is requested at once, and signals an error when cancelled
        AtomicLong signalled = new AtomicLong();
        Flow.Publisher<Long> publisher = s -> s.onSubscribe(new Flow.Subscription() {
            @Override
            public void request(long n) {
                for (long i = 0; i < n; i++) {
                    s.onNext(signalled.getAndIncrement());
                }
            }

            @Override
            public void cancel() {
                s.onError(new java.util.concurrent.CancellationException("the subscription was cancelled"));
            }
        });
        // and a slow pipeline, so that the source holds items when the stop comes
        List<Long> sunk = new CopyOnWriteArrayList<>();
        PipelineHandle<Long> job = Pipeline.from(Source.fromPublisher(publisher, 32))
                .buffer(4)
                .map(x -> {
                    Thread.sleep(1); // a simulated slow stage
                    return x;
                })
                .to(Sink.forEach(sunk::add))
                .start();
        await().atMost(Duration.ofSeconds(10)).until(() -> sunk.size() > 20);
        // when
        job.stop(Duration.ofSeconds(30));
        PipelineResult<Long> result = job.await();
        // then everything the publisher sent before its error went through, in order
        assertThat(result.outcome()).isEqualTo(Outcome.STOPPED);
        assertThat(sunk)
                .hasSize((int) signalled.get())
                .isEqualTo(java.util.stream.LongStream.range(0, signalled.get())
                        .boxed()
                        .toList());
    }
}
