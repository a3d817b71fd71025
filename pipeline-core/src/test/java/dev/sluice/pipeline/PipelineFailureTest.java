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
    void aDeadLetterHandlerThatThrowsFailsTheRun() {
        assertThatThrownBy(() -> Pipeline.from(Source.range(0, 10))
                        .map(x -> {
                            throw new IllegalArgumentException("always");
                        })
                        .onError(ErrorPolicy.deadLetter(d -> {
                            throw BOOM;
                        }))
                        .to(Sink.count())
                        .run())
                .isInstanceOf(PipelineFailedException.class)
                .hasCause(BOOM);
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
