package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.adapter.JdkFlowAdapter;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;

/** Backpressure across {@code java.util.concurrent.Flow}, with Reactor on the other side. */
@Timeout(60)
class FlowInteropTest {

    @Test
    void aPublisherSourceNeverHasMoreThanThePrefetchOutstanding() throws Exception {
        // given a Reactor publisher that tracks what was requested and delivered
        AtomicLong requested = new AtomicLong();
        AtomicLong delivered = new AtomicLong();
        AtomicLong maxOutstanding = new AtomicLong();
        Flux<Long> flux = Flux.range(0, 20_000)
                .map(i -> (long) i)
                .doOnRequest(n -> maxOutstanding.accumulateAndGet(requested.addAndGet(n) - delivered.get(), Math::max))
                .doOnNext(x -> delivered.incrementAndGet());
        int prefetch = 64;
        // when a slow sink consumes it
        PipelineResult<Long> result = Pipeline.from(
                        Source.fromPublisher(JdkFlowAdapter.publisherToFlowPublisher(flux), prefetch))
                .to(Sink.forEach(x -> {
                    if (x % 2_000 == 0) {
                        Thread.sleep(5);
                    }
                }))
                .run();
        // then
        assertThat(result.value()).isEqualTo(20_000);
        assertThat(maxOutstanding.get()).isLessThanOrEqualTo(prefetch);
        assertThat(requested.get()).as("re-requests exactly what was taken").isLessThanOrEqualTo(20_000 + prefetch);
    }

    @Test
    void aPublisherErrorFailsTheRun() {
        Flux<Long> failing = Flux.concat(Flux.just(1L, 2L), Flux.error(new IllegalStateException("upstream")));
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> Pipeline.from(Source.fromPublisher(JdkFlowAdapter.publisherToFlowPublisher(failing), 8))
                                .to(Sink.count())
                                .run())
                .isInstanceOf(PipelineFailedException.class)
                .hasRootCauseMessage("upstream");
    }

    @Test
    void cancellingTheRunCancelsTheSubscription() throws Exception {
        CountDownLatch cancelled = new CountDownLatch(1);
        Flux<Long> endless = Flux.<Long>generate(sink -> sink.next(1L)).doOnCancel(cancelled::countDown);
        PipelineHandle<Long> run = Pipeline.from(
                        Source.fromPublisher(JdkFlowAdapter.publisherToFlowPublisher(endless), 16))
                .to(Sink.count())
                .start();
        await().atMost(Duration.ofSeconds(5)).until(() -> run.snapshot().itemCount() > 100);
        run.cancel();
        assertThat(cancelled.await(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aSlowReactorSubscriberHoldsBackThePipelineSource() throws Exception {
        // given a pipeline view and a subscriber that requests one item at a time, slowly
        AtomicLong emitted = new AtomicLong();
        Source<Long> fast = emitter -> {
            for (long i = 0; i < 2_000; i++) {
                emitter.emit(i);
                emitted.incrementAndGet();
            }
        };
        AtomicLong received = new AtomicLong();
        AtomicLong maxAhead = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        Flux<Long> flux = JdkFlowAdapter.flowPublisherToFlux(
                Pipeline.from(fast).map(x -> x).toPublisher());
        // when
        flux.subscribe(new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(org.reactivestreams.Subscription subscription) {
                request(1);
            }

            @Override
            protected void hookOnNext(Long value) {
                maxAhead.accumulateAndGet(emitted.get() - received.incrementAndGet(), Math::max);
                if (value % 100 == 0) {
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                request(1);
            }

            @Override
            protected void hookOnComplete() {
                done.countDown();
            }
        });
        // then: the source never got further ahead than the pipeline's buffers hold
        assertThat(done.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(received.get()).isEqualTo(2_000);
        long bound = 2L * Pipeline.DEFAULT_CAPACITY + 2L * Pipeline.TRANSFER_BATCH;
        assertThat(maxAhead.get()).isLessThanOrEqualTo(bound);
    }

    @Test
    void aSubscriberThatCancelsEndsTheRunAndItsSource() throws Exception {
        CountDownLatch sourceEnded = new CountDownLatch(1);
        Source<Long> endless = emitter -> {
            try {
                for (long i = 0; ; i++) {
                    emitter.emit(i);
                }
            } finally {
                sourceEnded.countDown();
            }
        };
        List<Long> first = JdkFlowAdapter.flowPublisherToFlux(
                        Pipeline.from(endless).toPublisher())
                .take(10)
                .collectList()
                .block(Duration.ofSeconds(10));
        assertThat(first).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
        assertThat(sourceEnded.await(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aSubscriberSinkCarriesThePipelineIntoAFlowSubscriber() throws Exception {
        List<Long> got = new java.util.concurrent.CopyOnWriteArrayList<>();
        CountDownLatch complete = new CountDownLatch(1);
        Flow.Subscriber<Long> subscriber = new Flow.Subscriber<>() {
            Flow.Subscription s;

            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                s = subscription;
                s.request(3);
            }

            @Override
            public void onNext(Long item) {
                got.add(item);
                s.request(1);
            }

            @Override
            public void onError(Throwable throwable) {}

            @Override
            public void onComplete() {
                complete.countDown();
            }
        };
        PipelineResult<Long> result = Pipeline.from(Source.range(0, 100))
                .to(Sink.toSubscriber(subscriber))
                .run();
        assertThat(complete.await(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(result.value()).isEqualTo(100);
        assertThat(got).hasSize(100);
    }

    /** A subscriber that requests a number, then records what it is told. */
    static final class Probe implements Flow.Subscriber<Long> {
        final List<String> signals = new java.util.concurrent.CopyOnWriteArrayList<>();
        final CountDownLatch subscribed = new CountDownLatch(1);
        final CountDownLatch terminated = new CountDownLatch(1);
        volatile Flow.Subscription subscription;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            subscribed.countDown();
        }

        @Override
        public void onNext(Long item) {
            signals.add("onNext");
        }

        @Override
        public void onError(Throwable t) {
            signals.add("onError:" + t.getClass().getSimpleName());
            terminated.countDown();
        }

        @Override
        public void onComplete() {
            signals.add("onComplete");
            terminated.countDown();
        }
    }

    @Test
    void aSubscriberThatCancelsWhileNothingArrivesStillEndsTheRun() throws Exception {
        // given a run whose source is idle (a channel nobody sends to)
        Channel<Long> idle = Channel.bounded(1);
        Probe probe = new Probe();
        PipelineHandle<Long> run = Pipeline.from(Source.fromChannel(idle))
                .to(Sink.toSubscriber(probe))
                .start();
        assertThat(probe.subscribed.await(5, java.util.concurrent.TimeUnit.SECONDS))
                .isTrue();
        probe.subscription.request(1);
        // when
        probe.subscription.cancel();
        // then the run finishes early, without waiting for an item that may never come
        assertThat(run.await(Duration.ofSeconds(5)).outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(probe.signals).isEmpty();
        assertThat(run.activeThreadCount()).isZero();
    }

    @Test
    void aBadRequestIsAnsweredWithOnErrorEvenWhileNothingArrives() throws Exception {
        Channel<Long> idle = Channel.bounded(1);
        Probe probe = new Probe();
        PipelineHandle<Long> run = Pipeline.from(Source.fromChannel(idle))
                .to(Sink.toSubscriber(probe))
                .start();
        assertThat(probe.subscribed.await(5, java.util.concurrent.TimeUnit.SECONDS))
                .isTrue();
        // when (rule 3.9)
        probe.subscription.request(0);
        // then
        assertThat(probe.terminated.await(5, java.util.concurrent.TimeUnit.SECONDS))
                .isTrue();
        assertThat(probe.signals).containsExactly("onError:IllegalArgumentException");
        run.await(Duration.ofSeconds(5));
    }

    @Test
    void aPublisherThatEndsTheStreamWithoutSubscribingFailsOrEndsTheRunAtOnce() throws Exception {
        // given publishers that break rule 1.9: an error, or a completion, with no onSubscribe first
        Flow.Publisher<Long> refuses = subscriber -> subscriber.onError(new java.io.IOException("refused"));
        Flow.Publisher<Long> completes = Flow.Subscriber::onComplete;

        // when each is a pipeline's source, then the run fails with the error, or completes empty, without waiting
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Pipeline.from(Source.fromPublisher(refuses))
                        .to(Sink.count())
                        .run(Duration.ofSeconds(30)))
                .isInstanceOf(PipelineFailedException.class)
                .hasRootCauseInstanceOf(java.io.IOException.class)
                .hasRootCauseMessage("refused");
        assertThat(Pipeline.from(Source.fromPublisher(completes))
                        .to(Sink.count())
                        .run(Duration.ofSeconds(30))
                        .value())
                .isZero();
    }

    @Test
    void aNullSignalIsThrownBackToThePublisherAndFailsTheRun() throws Exception {
        // given publishers that signal null after subscribing: an item, and an error (rule 2.13)
        List<Throwable> thrownBack = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.function.Function<java.util.function.Consumer<Flow.Subscriber<? super Long>>, Flow.Publisher<Long>>
                signalling = signal -> subscriber -> {
            subscriber.onSubscribe(new Flow.Subscription() {
                private boolean sent;

                @Override
                public void request(long n) {
                    if (!sent) {
                        sent = true;
                        try {
                            signal.accept(subscriber);
                        } catch (NullPointerException e) {
                            thrownBack.add(e);
                        }
                    }
                }

                @Override
                public void cancel() {}
            });
        };

        // when each is a pipeline's source
        for (Flow.Publisher<Long> publisher :
                List.of(signalling.apply(s -> s.onNext(null)), signalling.apply(s -> s.onError(null)))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Pipeline.from(Source.fromPublisher(publisher))
                            .to(Sink.count())
                            .run(Duration.ofSeconds(30)))
                    .isInstanceOf(PipelineFailedException.class)
                    .hasRootCauseInstanceOf(NullPointerException.class);
        }

        // then each null was also thrown to the publisher that signalled it
        assertThat(thrownBack).hasSize(2).allMatch(e -> e.getMessage().contains("rule 2.13"));
    }
}
