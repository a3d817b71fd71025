package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every way a run can be aborted returns promptly, and leaves no stage thread behind. "Promptly" is asserted
 * with a generous bound (5 s on 2 noisy cores): the bound is there to catch a hang.
 */
@Timeout(60)
class PipelineCancellationTest {

    private static final Duration PROMPTLY = Duration.ofSeconds(5);

    /** Records the threads that run user code, to check they are all gone afterwards. */
    private final Set<Thread> stageThreads = ConcurrentHashMap.newKeySet();

    private <T> T seen(T item) {
        stageThreads.add(Thread.currentThread());
        return item;
    }

    private Source<Long> endless(AtomicLong emitted) {
        return emitter -> {
            stageThreads.add(Thread.currentThread());
            for (long i = 0; ; i++) {
                emitter.emit(i);
                emitted.incrementAndGet();
            }
        };
    }

    private void assertNoStageThreadAlive(PipelineHandle<?> handle) {
        assertThat(stageThreads)
                .isNotEmpty()
                .allSatisfy(t -> assertThat(t.isAlive()).as(t.getName()).isFalse());
        if (handle != null) {
            assertThat(handle.activeThreadCount()).isZero();
        }
    }

    private static void assertPrompt(long startNanos) {
        assertThat(Duration.ofNanos(System.nanoTime() - startNanos)).isLessThan(PROMPTLY);
    }

    @Test
    void aSourceSeesItsRunAbortingWhenCancelledAndNotDuringAGracefulStop() throws Exception {
        for (boolean cancel : new boolean[] {false, true}) {
            // given a source that, once ended, records whether its run was aborting
            AtomicBoolean abortingAtEnd = new AtomicBoolean(!cancel);
            AtomicBoolean abortingWhileRunning = new AtomicBoolean(true);
            CountDownLatch running = new CountDownLatch(1);
            PipelineHandle<Long> handle = Pipeline.from((Source<Long>) emitter -> {
                        abortingWhileRunning.set(emitter.context().isAborting());
                        running.countDown();
                        try {
                            for (long i = 0; ; i++) {
                                emitter.emit(i);
                            }
                        } finally {
                            abortingAtEnd.set(emitter.context().isAborting());
                        }
                    })
                    .to(Sink.count())
                    .start();
            running.await();

            // when
            if (cancel) {
                handle.cancel();
            } else {
                handle.stop(Duration.ofSeconds(5));
            }
            try {
                handle.await();
            } catch (PipelineCancelledException expected) {
                assertThat(cancel).isTrue();
            }

            // then
            assertThat(abortingWhileRunning.get()).as("while running").isFalse();
            assertThat(abortingAtEnd.get())
                    .as(cancel ? "after cancel()" : "after stop(grace)")
                    .isEqualTo(cancel);
        }
    }

    @Test
    void noThreadOfTheRunIsAliveWhenRunOrAwaitReturns() throws Exception {
        // given a listener that records the thread that calls it: the run's coordinator
        Set<Thread> coordinators = ConcurrentHashMap.newKeySet();
        PipelineListener recorder = new PipelineListener() {
            @Override
            public void onFinish(PipelineSummary summary) {
                coordinators.add(Thread.currentThread());
            }
        };
        RunnablePipeline<Long> pipeline = Pipeline.from(Source.range(0, 10))
                .listener(recorder)
                .map(this::seen)
                .to(Sink.count());
        // when it runs many times, through run() and through start() and await()
        List<Thread> aliveAfterwards = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 200; i++) {
            coordinators.clear();
            if (i % 2 == 0) {
                pipeline.run();
            } else {
                pipeline.start().await();
            }
            // then the coordinator, like every stage thread, has terminated
            assertThat(coordinators).hasSize(1);
            for (Thread t : coordinators) {
                if (t.isAlive()) {
                    aliveAfterwards.add(t);
                }
            }
        }
        assertThat(aliveAfterwards)
                .as("coordinator threads alive after their run returned")
                .isEmpty();
        assertNoStageThreadAlive(null);
    }

    @Test
    void aListenerThatAwaitsItsOwnRunIsRefusedRatherThanHanging() throws Exception {
        // given a listener that waits for the run it observes
        java.util.concurrent.atomic.AtomicReference<PipelineHandle<Long>> handle =
                new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<Throwable> refused =
                new java.util.concurrent.atomic.AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        PipelineListener awaiting = new PipelineListener() {
            @Override
            public void onFinish(PipelineSummary summary) {
                try {
                    started.await();
                    handle.get().await();
                } catch (Throwable t) {
                    refused.set(t);
                }
            }
        };
        // when
        PipelineHandle<Long> run = Pipeline.from(Source.range(0, 10))
                .listener(awaiting)
                .to(Sink.count())
                .start();
        handle.set(run);
        started.countDown();
        // then the run still ends, and the listener was told why it could not wait
        assertThat(run.await().value()).isEqualTo(10);
        assertThat(refused.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("wait for itself");
    }

    @Test
    void cancelFromAnotherThreadAbortsARunningPipeline() throws Exception {
        // given
        AtomicLong emitted = new AtomicLong();
        PipelineHandle<Long> handle = Pipeline.from(endless(emitted))
                .map(this::seen)
                .mapConcurrent(4, this::seen)
                .to(Sink.forEach(this::seen))
                .start();
        await().atMost(PROMPTLY).until(() -> emitted.get() > 10_000);
        // when
        long start = System.nanoTime();
        Thread.ofVirtual().start(handle::cancel);
        // then
        assertThatThrownBy(handle::await)
                .isInstanceOfSatisfying(
                        PipelineCancelledException.class,
                        e -> assertThat(e.summary().outcome()).isEqualTo(Outcome.CANCELLED));
        assertPrompt(start);
        assertThat(handle.isDone()).isTrue();
        assertNoStageThreadAlive(handle);
    }

    @Test
    void aRunTimeoutAbortsWithTimedOut() throws Exception {
        AtomicLong emitted = new AtomicLong();
        long start = System.nanoTime();
        assertThatThrownBy(() -> Pipeline.from(endless(emitted))
                        .map(this::seen)
                        .to(Sink.count())
                        .run(Duration.ofMillis(200)))
                .isInstanceOfSatisfying(PipelineCancelledException.class, e -> {
                    assertThat(e.summary().outcome()).isEqualTo(Outcome.TIMED_OUT);
                    assertThat(e.getMessage()).contains("deadline");
                });
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(200)).isLessThan(PROMPTLY);
        assertNoStageThreadAlive(null);
    }

    @Test
    void interruptingTheCallerOfRunCancelsTheRun() throws Exception {
        AtomicLong emitted = new AtomicLong();
        Background<Boolean> caller = Background.start(() -> {
            try {
                Pipeline.from(endless(emitted))
                        .map(this::seen)
                        .to(Sink.forEach(x -> {
                            seen(x);
                            Thread.sleep(1);
                        }))
                        .run();
                return false;
            } catch (InterruptedException e) {
                return Thread.currentThread().isInterrupted();
            }
        });
        await().atMost(PROMPTLY).until(() -> emitted.get() > 100);
        long start = System.nanoTime();
        caller.thread().interrupt();
        assertThat(caller.result()).as("interrupt flag restored").isTrue();
        assertPrompt(start);
        assertNoStageThreadAlive(null);
    }

    @Test
    void aStageBlockedInSleepIsInterrupted() throws Exception {
        CountDownLatch sleeping = new CountDownLatch(1);
        PipelineHandle<Long> handle = Pipeline.from(Source.range(0, 10))
                .map(x -> {
                    seen(x);
                    sleeping.countDown();
                    Thread.sleep(Duration.ofHours(1));
                    return x;
                })
                .to(Sink.count())
                .start();
        sleeping.await();
        long start = System.nanoTime();
        handle.cancel();
        assertThatThrownBy(handle::await).isInstanceOf(PipelineCancelledException.class);
        assertPrompt(start);
        assertNoStageThreadAlive(handle);
    }

    @Test
    void aStageBlockedOnAnotherChannelIsInterrupted() throws Exception {
        Channel<Long> never = Channel.bounded(1);
        CountDownLatch waiting = new CountDownLatch(1);
        PipelineHandle<Long> handle = Pipeline.from(Source.of(1L))
                .map(x -> {
                    seen(x);
                    waiting.countDown();
                    return never.receive();
                })
                .to(Sink.count())
                .start();
        waiting.await();
        long start = System.nanoTime();
        handle.cancel();
        assertThatThrownBy(handle::await).isInstanceOf(PipelineCancelledException.class);
        assertPrompt(start);
        assertNoStageThreadAlive(handle);
    }

    @Test
    void aStageBlockedInASocketReadIsInterrupted() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CountDownLatch reading = new CountDownLatch(1);
            PipelineHandle<Long> handle = Pipeline.from(Source.of(1L))
                    .map(x -> {
                        seen(x);
                        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                                InputStream in = socket.getInputStream()) {
                            reading.countDown();
                            return (long) in.read(); // the server never writes
                        }
                    })
                    .to(Sink.count())
                    .start();
            reading.await();
            await().atMost(PROMPTLY)
                    .until(() -> stageThreads.stream().anyMatch(t -> t.getState() == Thread.State.WAITING));
            long start = System.nanoTime();
            handle.cancel();
            assertThatThrownBy(handle::await).isInstanceOf(PipelineCancelledException.class);
            assertPrompt(start);
            assertNoStageThreadAlive(handle);
        }
    }

    @Test
    void aFailingStageAbortsStagesBlockedElsewhere() throws Exception {
        CountDownLatch otherSleeping = new CountDownLatch(1);
        RuntimeException boom = new RuntimeException("boom");
        PipelineHandle<Long> handle = Pipeline.from(Source.range(0, 100))
                .mapConcurrentUnordered(2, x -> {
                    seen(x);
                    if (x == 0) {
                        otherSleeping.countDown();
                        Thread.sleep(Duration.ofHours(1));
                    }
                    otherSleeping.await();
                    throw boom;
                })
                .to(Sink.count())
                .start();
        long start = System.nanoTime();
        assertThatThrownBy(handle::await)
                .isInstanceOf(PipelineFailedException.class)
                .hasCause(boom);
        assertPrompt(start);
        assertNoStageThreadAlive(handle);
    }

    @Test
    void theWatchdogReportsAStageThatIgnoresInterrupts() throws Exception {
        AtomicBoolean release = new AtomicBoolean();
        List<String> stuck = new CopyOnWriteArrayList<>();
        List<StackTraceElement[]> where = new CopyOnWriteArrayList<>();
        CountDownLatch spinning = new CountDownLatch(1);
        PipelineHandle<Long> handle = Pipeline.from(Source.of(1L))
                .map(x -> {
                    seen(x);
                    spinning.countDown();
                    while (!release.get()) {
                        Thread.onSpinWait(); // ignores the interrupt: a CPU loop
                    }
                    return x;
                })
                .named("stubborn")
                .watchdog(Duration.ofMillis(100))
                .listener(new PipelineListener() {
                    @Override
                    public void onStuckStage(String stage, StackTraceElement[] stack) {
                        stuck.add(stage);
                        where.add(stack);
                        release.set(true);
                    }
                })
                .to(Sink.count())
                .start();
        spinning.await();
        handle.cancel();
        assertThatThrownBy(handle::await).isInstanceOf(PipelineCancelledException.class);
        assertThat(stuck).containsExactly("stubborn");
        assertThat(where.get(0)).isNotEmpty();
        assertNoStageThreadAlive(handle);
    }

    @Test
    void cancellingAnEndedRunChangesNothing() throws Exception {
        PipelineHandle<Long> handle =
                Pipeline.from(Source.range(0, 10)).to(Sink.count()).start();
        assertThat(handle.await().value()).isEqualTo(10);
        handle.cancel();
        handle.stop(Duration.ZERO);
        assertThat(handle.await().outcome()).isEqualTo(Outcome.COMPLETED);
    }

    @Test
    void stagesLeftRunningAfterATakeAreReportedByTheWatchdog() throws Exception {
        AtomicBoolean release = new AtomicBoolean();
        List<String> stuck = new CopyOnWriteArrayList<>();
        Source<Long> stubborn = emitter -> {
            stageThreads.add(Thread.currentThread());
            emitter.emit(1L);
            while (!release.get()) {
                Thread.onSpinWait(); // ignores the interrupt that take(1) sends it
            }
        };
        PipelineResult<Long> result = Pipeline.from(stubborn)
                .named("stubborn")
                .watchdog(Duration.ofMillis(100))
                .listener(new PipelineListener() {
                    @Override
                    public void onStuckStage(String stage, StackTraceElement[] where) {
                        stuck.add(stage);
                        release.set(true);
                    }
                })
                .take(1)
                .to(Sink.count())
                .run(Duration.ofSeconds(30));
        assertThat(result.value()).isEqualTo(1);
        assertThat(stuck).contains("stubborn");
        assertNoStageThreadAlive(null);
    }

    @Test
    void aProgressCallbackThatAwaitsItsOwnRunIsRefusedRatherThanHanging() throws Exception {
        // given a listener whose progress report waits for the run it observes
        java.util.concurrent.atomic.AtomicReference<PipelineHandle<Long>> handle =
                new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<Throwable> refused =
                new java.util.concurrent.atomic.AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch triedToWait = new CountDownLatch(1);
        PipelineListener awaiting = new PipelineListener() {
            @Override
            public void onProgress(PipelineSnapshot progress) {
                if (triedToWait.getCount() == 0) {
                    return;
                }
                try {
                    started.await();
                    handle.get().await();
                } catch (Throwable t) {
                    refused.set(t);
                }
                triedToWait.countDown();
            }
        };
        // when
        PipelineHandle<Long> run = Pipeline.from(Source.range(0, 10))
                .listener(awaiting, Duration.ofMillis(5))
                .map(x -> {
                    triedToWait.await(); // the run lasts until the listener has tried
                    return x;
                })
                .to(Sink.count())
                .start();
        handle.set(run);
        started.countDown();
        // then the run still ends, and the listener was told why it could not wait
        assertThat(run.await().value()).isEqualTo(10);
        assertThat(refused.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("wait for itself");
    }

    @Test
    void aSlowProgressCallbackAndTheWatchdogsReportsNeverOverlap() throws Exception {
        // given a stage that ignores the interrupt a take(1) sends it, reported every 20 ms, and a listener whose
        // progress report, once the take has finished, waits for a stuck-stage report (up to 500 ms)
        AtomicBoolean release = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger inCallback = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger overlaps = new java.util.concurrent.atomic.AtomicInteger();
        CountDownLatch sinkDone = new CountDownLatch(1);
        CountDownLatch stuckReported = new CountDownLatch(1);
        Source<Long> stubborn = emitter -> {
            stageThreads.add(Thread.currentThread());
            emitter.emit(1L);
            while (!release.get()) {
                Thread.interrupted(); // ignores the interrupt take(1) sends it
                java.util.concurrent.locks.LockSupport.parkNanos(
                        Duration.ofMillis(1).toNanos());
            }
        };
        PipelineListener listener = new PipelineListener() {
            private void enter() {
                if (inCallback.incrementAndGet() > 1) {
                    overlaps.incrementAndGet();
                }
            }

            @Override
            public void onProgress(PipelineSnapshot progress) {
                enter();
                try {
                    if (sinkDone.getCount() == 0 && !release.get()) {
                        stuckReported.await(500, java.util.concurrent.TimeUnit.MILLISECONDS);
                        release.set(true);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    inCallback.decrementAndGet();
                }
            }

            @Override
            public void onStuckStage(String stage, StackTraceElement[] where) {
                enter();
                stuckReported.countDown();
                inCallback.decrementAndGet();
            }
        };
        // when
        PipelineResult<Long> result = Pipeline.from(stubborn)
                .named("stubborn")
                .watchdog(Duration.ofMillis(20))
                .listener(listener, Duration.ofMillis(5))
                .take(1)
                .to(Sink.forEach(x -> sinkDone.countDown()))
                .run(Duration.ofSeconds(30));
        // then
        assertThat(result.value()).isEqualTo(1);
        assertThat(release.get()).isTrue();
        assertThat(overlaps.get()).isZero();
        assertNoStageThreadAlive(null);
    }

    @Test
    void aCancelAfterTheSinkCompletedDoesNotChangeTheOutcome() throws Exception {
        // given a take(1) whose source ignores interrupts for a while, so the run is still ending after its sink
        CountDownLatch release = new CountDownLatch(1);
        Source<Long> lingering = emitter -> {
            emitter.emit(1L);
            release.await(); // interruptible... once; then it keeps going until released
        };
        Source<Long> stubborn = emitter -> {
            try {
                lingering.produce(emitter);
            } catch (InterruptedException first) {
                while (release.getCount() > 0) {
                    Thread.onSpinWait();
                }
            }
        };
        Channel<Long> out = Channel.bounded(4);
        PipelineHandle<Long> run =
                Pipeline.from(stubborn).take(1).to(Sink.toChannel(out)).start();
        assertThat(out.receive()).isEqualTo(1L);
        await().atMost(PROMPTLY).until(out::isClosedForReceive); // the sink has finished: the run completed
        // when
        run.cancel();
        release.countDown();
        // then
        assertThat(run.await().outcome()).isEqualTo(Outcome.COMPLETED);
    }

    @Test
    void aCancelWhileTheSinksLastAcknowledgementsRunDoesNotChangeTheOutcome() throws Exception {
        // given a writer that keeps every item until complete, and items whose acknowledgement waits for the test
        CountDownLatch acknowledging = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<Disposition> told = new CopyOnWriteArrayList<>();
        Acknowledgement slow = disposition -> {
            told.add(disposition);
            acknowledging.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        Source<Long> acknowledged = emitter -> {
            for (long i = 0; i < 3; i++) {
                emitter.emit(i, slow);
            }
        };
        Sink<Long, Long> keepsAll = Sink.of(context -> new Sink.Writer<Long, Long>() {
            private long kept;

            @Override
            public void write(Long item) {
                kept++;
            }

            @Override
            public int unconfirmed() {
                return (int) kept;
            }

            @Override
            public Long complete() {
                return kept;
            }
        });
        PipelineHandle<Long> run = Pipeline.from(acknowledged).to(keepsAll).start();

        // when the run is cancelled while the sink, having completed, acknowledges the first of its items
        assertThat(acknowledging.await(30, java.util.concurrent.TimeUnit.SECONDS))
                .isTrue();
        run.cancel();
        release.countDown();

        // then the run completed, with the writer's value, and every item was told it was processed
        PipelineResult<Long> result = run.await();
        assertThat(result.summary().outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(result.value()).isEqualTo(3);
        assertThat(told).containsExactly(Disposition.PROCESSED, Disposition.PROCESSED, Disposition.PROCESSED);
    }

    @Test
    void aCancelledStageOrSinkCallsItsFunctionOnNoMoreOfTheItemsItHolds() throws Exception {
        for (boolean inTheSink : new boolean[] {false, true}) {
            // given a peek, or a sink, whose action on the second item cancels the run (so the run is aborting when
            // the action returns, with the rest of the group the stage holds still to go)
            List<Long> called = new CopyOnWriteArrayList<>();
            java.util.concurrent.atomic.AtomicReference<PipelineHandle<Long>> handle =
                    new java.util.concurrent.atomic.AtomicReference<>();
            CountDownLatch started = new CountDownLatch(1);
            CheckedConsumer<Long> action = x -> {
                called.add(x);
                if (x == 1) {
                    started.await();
                    handle.get().cancel();
                }
            };
            Pipeline<Long> source = Pipeline.from(Source.range(0, 64));
            PipelineHandle<Long> run = inTheSink
                    ? source.to(Sink.forEach(action)).start()
                    : source.peek(action).to(Sink.count()).start();
            handle.set(run);
            started.countDown();

            // then the run ended cancelled, and the action was called on no item after the cancel
            assertThatThrownBy(run::await).isInstanceOf(PipelineCancelledException.class);
            assertThat(called).as(inTheSink ? "sink" : "peek").containsExactly(0L, 1L);
        }
    }

    @Test
    void aTimeoutBeyondAnyClockIsAccepted() throws Exception {
        PipelineResult<Long> result = Pipeline.from(Source.range(0, 10))
                .to(Sink.count())
                .run(java.time.temporal.ChronoUnit.FOREVER.getDuration());
        assertThat(result.value()).isEqualTo(10);
    }
}
