package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Failures in each kind of stage, and the error policies that absorb them. */
@Timeout(30)
class PipelineFailureTest {

    private static final IllegalStateException BOOM = new IllegalStateException("boom");

    @Test
    void aFailingSourceFailsTheRunAndNamesIt() {
        Source<Long> source = emitter -> {
            for (long i = 0; i < 10; i++) {
                emitter.emit(i);
            }
            throw new IOException("disk gone");
        };
        assertThatThrownBy(() -> Pipeline.from(source)
                        .pipelineName("export")
                        .to(Sink.count())
                        .run())
                .isInstanceOfSatisfying(PipelineFailedException.class, e -> {
                    assertThat(e.stage()).isEqualTo("source");
                    assertThat(e.getCause()).isInstanceOf(IOException.class).hasMessage("disk gone");
                    assertThat(e.summary().outcome()).isEqualTo(Outcome.FAILED);
                    assertThat(e.summary().stage("source").orElseThrow().itemsOut())
                            .isEqualTo(10);
                    assertThat(e.getMessage())
                            .contains(
                                    "export",
                                    "'source'",
                                    "disk gone",
                                    e.summary().correlationId());
                });
    }

    @Test
    void aFailingMiddleStageFailsTheRunWithTheCountsSoFar() {
        assertThatThrownBy(() -> Pipeline.from(Source.range(0, 1_000))
                        .map(x -> {
                            if (x == 500) {
                                throw BOOM;
                            }
                            return x;
                        })
                        .named("check")
                        .to(Sink.count())
                        .run())
                .isInstanceOfSatisfying(PipelineFailedException.class, e -> {
                    assertThat(e.stage()).isEqualTo("check");
                    assertThat(e.getCause()).isSameAs(BOOM);
                    StageStats check = e.summary().stage("check").orElseThrow();
                    assertThat(check.failed()).isEqualTo(1);
                    assertThat(check.itemsOut()).isLessThanOrEqualTo(500);
                    assertThat(e.summary().itemCount()).isLessThanOrEqualTo(500);
                    assertThat(e.getMessage()).contains("check=");
                });
    }

    @Test
    void aFailingSinkFailsTheRun() {
        assertThatThrownBy(() -> Pipeline.from(Source.range(0, 100))
                        .to(Sink.<Long>forEach(x -> {
                                    if (x == 7) {
                                        throw BOOM;
                                    }
                                })
                                .named("writer"))
                        .run())
                .isInstanceOfSatisfying(PipelineFailedException.class, e -> {
                    assertThat(e.stage()).isEqualTo("writer");
                    assertThat(e.getCause()).isSameAs(BOOM);
                });
    }

    @Test
    void oneFailingConcurrentWorkerFailsTheRun() {
        for (boolean ordered : new boolean[] {true, false}) {
            CheckedFunction<Long, Long> call = x -> {
                if (x == 123) {
                    throw BOOM;
                }
                Thread.sleep(1);
                return x;
            };
            Pipeline<Long> p = Pipeline.from(Source.range(0, 1_000));
            Pipeline<Long> c = ordered ? p.mapConcurrent(8, call) : p.mapConcurrentUnordered(8, call);
            assertThatThrownBy(() -> c.to(Sink.count()).run())
                    .isInstanceOfSatisfying(PipelineFailedException.class, e -> {
                        assertThat(e.stage()).startsWith("mapConcurrent");
                        assertThat(e.getCause()).isSameAs(BOOM);
                    });
        }
    }

    @Test
    void skipCountsAndContinues() throws Exception {
        PipelineResult<List<Long>> result = Pipeline.from(Source.range(0, 100))
                .map(x -> {
                    if (x % 10 == 0) {
                        throw new IllegalArgumentException("bad " + x);
                    }
                    return x;
                })
                .onError(ErrorPolicy.skip())
                .to(Sink.toList())
                .run();
        assertThat(result.value()).hasSize(90).doesNotContain(0L, 10L, 90L);
        StageStats map = result.summary().stage("map").orElseThrow();
        assertThat(map.skipped()).isEqualTo(10);
        assertThat(map.itemsIn()).isEqualTo(100);
        assertThat(map.itemsOut()).isEqualTo(90);
        assertThat(result.outcome()).isEqualTo(Outcome.COMPLETED);
    }

    @Test
    void deadLetterReceivesTheItemTheStageAndTheError() throws Exception {
        List<DeadLetter> dead = new CopyOnWriteArrayList<>();
        PipelineResult<Long> result = Pipeline.from(Source.range(0, 50))
                .mapConcurrent(4, x -> {
                    if (x % 5 == 0) {
                        throw new IllegalArgumentException("bad " + x);
                    }
                    return x;
                })
                .named("enrich")
                .onError(ErrorPolicy.deadLetter(dead::add))
                .filter(x -> {
                    if (x == 3) {
                        throw new IllegalStateException("filter hates 3");
                    }
                    return true;
                })
                .onError(ErrorPolicy.deadLetter(dead::add))
                .to(Sink.count())
                .run();
        assertThat(result.value()).isEqualTo(39);
        assertThat(dead).hasSize(11);
        assertThat(dead)
                .filteredOn(d -> d.stage().equals("enrich"))
                .extracting(DeadLetter::item)
                .containsExactlyInAnyOrder(0L, 5L, 10L, 15L, 20L, 25L, 30L, 35L, 40L, 45L);
        assertThat(dead)
                .filteredOn(d -> d.stage().equals("filter"))
                .singleElement()
                .satisfies(d -> assertThat(d.error()).hasMessage("filter hates 3"));
        assertThat(result.summary().stage("enrich").orElseThrow().failed()).isEqualTo(10);
        assertThat(result.summary().stage("filter").orElseThrow().failed()).isEqualTo(1);
    }

    @Test
    void aDeadLetterHandlerThatThrowsFailsTheRunKeepingTheItemsErrorAndCount() {
        IllegalStateException handlerFailed = new IllegalStateException("the dead-letter queue is down");
        assertThatThrownBy(() -> Pipeline.from(Source.range(0, 10))
                        .map(x -> {
                            throw new IllegalArgumentException("always");
                        })
                        .onError(ErrorPolicy.deadLetter(d -> {
                            throw handlerFailed;
                        }))
                        .to(Sink.count())
                        .run())
                .isInstanceOf(PipelineFailedException.class)
                .hasCause(handlerFailed)
                .satisfies(e -> assertThat(((PipelineFailedException) e)
                                .summary()
                                .stage("map")
                                .orElseThrow()
                                .failed())
                        .as("the item the run failed on")
                        .isEqualTo(1));
        assertThat(handlerFailed.getSuppressed())
                .singleElement()
                .satisfies(e -> assertThat(e)
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessage("always"));
    }

    @Test
    void aDeadLetterHandlerIsCalledOneAtATimeByTheWorkersOfAConcurrentStage() throws Exception {
        // given a mapConcurrent whose every call fails, and a handler that, on its first call, waits a while for a
        // second call to come in beside it
        java.util.concurrent.atomic.AtomicInteger inside = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger mostAtOnce = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch secondCall = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        List<DeadLetter> dead = new java.util.ArrayList<>(); // not thread-safe: the handler's calls must not overlap

        // when it runs
        PipelineResult<Long> result = Pipeline.from(Source.range(0, 8))
                .mapConcurrent(4, x -> {
                    throw new IOException("lookup failed for " + x);
                })
                .onError(ErrorPolicy.deadLetter(d -> {
                    mostAtOnce.accumulateAndGet(inside.incrementAndGet(), Math::max);
                    if (calls.incrementAndGet() == 1) {
                        secondCall.await(500, java.util.concurrent.TimeUnit.MILLISECONDS);
                    } else {
                        secondCall.countDown();
                    }
                    dead.add(d);
                    inside.decrementAndGet();
                }))
                .to(Sink.count())
                .run();

        // then every item reached the handler, never two at once
        assertThat(result.value()).isZero();
        assertThat(mostAtOnce.get()).isEqualTo(1);
        assertThat(dead).hasSize(8);
    }

    @Test
    void aNullResultIsTheItemsFailureUnderTheStagesErrorPolicy() throws Exception {
        // given stages whose function returns null for one item, each skipping failed items
        for (java.util.function.UnaryOperator<Pipeline<Long>> stage :
                List.<java.util.function.UnaryOperator<Pipeline<Long>>>of(
                        p -> p.map(x -> x == 3 ? null : x),
                        p -> p.mapConcurrent(2, x -> x == 3 ? null : x),
                        p -> p.mapConcurrentUnordered(2, x -> x == 3 ? null : x),
                        p -> p.mapConcurrentByKey(2, x -> x % 2, x -> x == 3 ? null : x))) {
            // when it runs
            PipelineResult<Long> result = stage.apply(Pipeline.from(Source.range(0, 10)))
                    .onError(ErrorPolicy.skip())
                    .to(Sink.count())
                    .run();

            // then that item was skipped, as if the function had thrown, and the rest went on
            assertThat(result.value()).isEqualTo(9);
            assertThat(result.summary().stages().get(1).skipped()).isEqualTo(1);
        }
    }

    @Test
    void theFirstFewSkipsOfAStageAreLoggedAtWarnWhateverThreadSkipsThem() throws Exception {
        // given the stages' log
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.sluice.pipeline.Stage");
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
                new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        try {
            // when eight workers skip a hundred items, each worker one of the first eight (they meet at a barrier)
            java.util.concurrent.CyclicBarrier allWorkers = new java.util.concurrent.CyclicBarrier(8);
            PipelineResult<Long> result = Pipeline.from(Source.range(0, 100))
                    .mapConcurrentUnordered(8, x -> {
                        if (x < 8) {
                            allWorkers.await(30, java.util.concurrent.TimeUnit.SECONDS);
                        }
                        throw new IOException("bad " + x);
                    })
                    .onError(ErrorPolicy.skip())
                    .to(Sink.count())
                    .run();

            // then the stage logged three skips at WARN, not three per worker
            assertThat(result.summary().stages().get(1).skipped()).isEqualTo(100);
            assertThat(logged.list)
                    .filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                    .hasSize(3);
        } finally {
            logger.detachAppender(logged);
        }
    }

    @Test
    void aSinkErrorPolicyAppliesToTheSink() throws Exception {
        List<DeadLetter> dead = new CopyOnWriteArrayList<>();
        PipelineResult<Long> result = Pipeline.from(Source.range(0, 20))
                .to(Sink.<Long>forEach(x -> {
                            if (x % 2 == 1) {
                                throw new IOException("odd");
                            }
                        })
                        .onError(ErrorPolicy.deadLetter(dead::add)))
                .run();
        assertThat(result.value()).isEqualTo(10);
        assertThat(dead).hasSize(10);
    }

    @Test
    void aBatchSinkDeadLettersTheWholeBatch() throws Exception {
        List<DeadLetter> dead = new CopyOnWriteArrayList<>();
        PipelineResult<Long> result = Pipeline.from(Source.range(0, 10))
                .to(Sink.<Long>forEachBatch(100, batch -> {
                            throw new IOException("database down");
                        })
                        .onError(ErrorPolicy.deadLetter(dead::add)))
                .run();
        assertThat(result.value()).isZero();
        assertThat(dead).isNotEmpty().allSatisfy(d -> assertThat(d.item()).isInstanceOf(List.class));
        assertThat(dead.stream().mapToInt(d -> ((List<?>) d.item()).size()).sum())
                .isEqualTo(10);
    }

    @Test
    void aMapFunctionReturningNullFailsTheRunWithAClearMessage() {
        assertThatThrownBy(() -> Pipeline.from(Source.range(0, 3))
                        .map(x -> (Long) null)
                        .to(Sink.count())
                        .run())
                .isInstanceOf(PipelineFailedException.class)
                .cause()
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("'map' produced null");
    }

    @Test
    void aListenerThatThrowsAnErrorNeitherBreaksNorHangsTheRun() throws Exception {
        PipelineListener buggy = new PipelineListener() {
            @Override
            public void onFinish(PipelineSummary summary) {
                throw new Error("listener bug");
            }
        };
        PipelineHandle<Long> run = Pipeline.from(Source.range(0, 10))
                .listener(buggy)
                .to(Sink.count())
                .start();
        assertThat(run.await(java.time.Duration.ofSeconds(10)).value()).isEqualTo(10);
        assertThat(run.isDone()).isTrue();
    }

    @Test
    void aListenerThatThrowsNeverBreaksTheRun() throws Exception {
        PipelineListener hostile = new PipelineListener() {
            @Override
            public void onStart(PipelineSnapshot start) {
                throw new IllegalStateException("onStart");
            }

            @Override
            public void onProgress(PipelineSnapshot progress) {
                throw new IllegalStateException("onProgress");
            }

            @Override
            public void onFinish(PipelineSummary summary) {
                throw new IllegalStateException("onFinish");
            }
        };
        PipelineResult<Long> result = Pipeline.from(Source.range(0, 10_000))
                .listener(hostile, java.time.Duration.ofMillis(1))
                .map(x -> {
                    if (x % 1000 == 0) {
                        Thread.sleep(1);
                    }
                    return x;
                })
                .to(Sink.count())
                .run();
        assertThat(result.value()).isEqualTo(10_000);
    }
}
