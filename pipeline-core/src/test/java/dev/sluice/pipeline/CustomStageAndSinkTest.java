package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The two hooks for stages and sinks of other modules: {@link Pipeline#via} and {@link Sink#of}. */
@Timeout(60)
class CustomStageAndSinkTest {

    @Test
    void viaPassesWhatItsBodyEmitsAndCountsItemsInAndOut() throws Exception {
        // given: a stage that emits each item twice
        Stage<Long, Long> twice = (input, output) -> {
            for (Long x; (x = input.receive()) != null; ) {
                output.emit(x);
                output.emit(-x);
            }
        };
        // when
        PipelineResult<List<Long>> result = Pipeline.from(Source.range(0, 1_000))
                .via(twice)
                .to(Sink.toList())
                .run();
        // then
        List<Long> expected = new ArrayList<>();
        LongStream.range(0, 1_000).forEach(x -> {
            expected.add(x);
            expected.add(-x);
        });
        assertThat(result.value()).isEqualTo(expected);
        StageStats via = result.summary().stage("via").orElseThrow();
        assertThat(via.itemsIn()).isEqualTo(1_000);
        assertThat(via.itemsOut()).isEqualTo(2_000);
    }

    @Test
    void inputReturnsNullAtTheEndAndAfterIt() throws Exception {
        AtomicReference<List<Object>> seen = new AtomicReference<>();
        Pipeline.from(Source.of(1, 2))
                .via((Stage.Input<Integer> input, Emitter<Integer> output) -> {
                    List<Object> got = new ArrayList<>();
                    got.add(input.receive());
                    got.add(input.receive());
                    got.add(input.receive());
                    got.add(input.receive());
                    seen.set(got);
                })
                .to(Sink.count())
                .run();
        assertThat(seen.get()).containsExactly(1, 2, null, null);
    }

    @Test
    void aBodyThatReturnsEarlyFinishesTheStagesBeforeItAndTheRunCompletes() throws Exception {
        // given: an endless source
        Stage<Long, Long> firstThree = (input, output) -> {
            for (int i = 0; i < 3; i++) {
                output.emit(input.receive());
            }
        };
        // when
        PipelineResult<List<Long>> result = Pipeline.from(Source.generate(() -> 7L))
                .via(firstThree)
                .to(Sink.toList())
                .run(Duration.ofSeconds(30));
        // then
        assertThat(result.value()).containsExactly(7L, 7L, 7L);
        assertThat(result.outcome()).isEqualTo(Outcome.COMPLETED);
    }

    @Test
    void aBodyThatThrowsFailsTheRunNamingItsStage() {
        assertThatThrownBy(() -> Pipeline.from(Source.of(1, 2, 3))
                        .via((Stage.Input<Integer> input, Emitter<Integer> output) -> {
                            input.receive();
                            throw new IllegalStateException("peer said no");
                        })
                        .named("exchange")
                        .to(Sink.count())
                        .run())
                .isInstanceOfSatisfying(PipelineFailedException.class, e -> {
                    assertThat(e.stage()).isEqualTo("exchange");
                    assertThat(e.getCause()).hasMessage("peer said no");
                });
    }

    @Test
    void viaTakesNoErrorPolicy() {
        Pipeline<Integer> p = Pipeline.from(Source.of(1)).via((Stage.Input<Integer> in, Emitter<Integer> out) -> {});
        assertThatThrownBy(() -> p.onError(ErrorPolicy.skip())).isInstanceOf(IllegalStateException.class);
    }

    @RepeatedTest(20)
    void cancellingTheRunInterruptsTheBodyAndTheThreadItForked() throws Exception {
        // given: a body that hands its output to a forked thread and waits for input that never comes
        CountDownLatch forkedWaiting = new CountDownLatch(1);
        AtomicBoolean forkedInterrupted = new AtomicBoolean();
        Stage<Long, Long> body = (input, output) -> {
            try (Scope scope = Scope.open()) {
                scope.fork(() -> {
                    forkedWaiting.countDown();
                    try {
                        new CountDownLatch(1).await();
                    } catch (InterruptedException e) {
                        forkedInterrupted.set(true);
                        throw e;
                    }
                    return null;
                });
                input.receive();
                input.receive(); // the source below emits one item, then blocks
                scope.join();
            }
        };
        PipelineHandle<Long> handle = Pipeline.from((Emitter<Long> e) -> {
                    e.emit(1L);
                    new CountDownLatch(1).await();
                })
                .via(body)
                .to(Sink.count())
                .start();
        forkedWaiting.await();
        // when
        handle.cancel();
        // then
        assertThatThrownBy(handle::await).isInstanceOf(CancellationException.class);
        assertThat(forkedInterrupted).isTrue();
    }

    @Test
    void aGracefulStopEndsTheInputOfTheStageWhichThenCompletes() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean sawEnd = new AtomicBoolean();
        PipelineHandle<Long> handle = Pipeline.from(Source.generate(() -> {
                    started.countDown();
                    return 1L;
                }))
                .via((Stage.Input<Long> input, Emitter<Long> output) -> {
                    for (Long x; (x = input.receive()) != null; ) {
                        output.emit(x);
                    }
                    sawEnd.set(true);
                })
                .to(Sink.count())
                .start();
        started.await();
        handle.stop(Duration.ofSeconds(10));
        PipelineResult<Long> result = handle.await();
        assertThat(sawEnd).isTrue();
        assertThat(result.outcome()).isEqualTo(Outcome.STOPPED);
    }

    // ------------------------------------------------------------------------------------------------ Sink.of

    @Test
    void sinkOfOpensAWriterPerRunAndItsCompleteIsTheRunsValue() throws Exception {
        Sink<Integer, String> joined = Sink.of(context -> new Sink.Writer<Integer, String>() {
            private final StringBuilder b = new StringBuilder(context.stageName() + ":");

            @Override
            public void write(Integer item) {
                b.append(item);
            }

            @Override
            public String complete() {
                return b.toString();
            }
        });
        RunnablePipeline<String> runnable = Pipeline.from(Source.of(1, 2, 3)).to(joined);
        assertThat(runnable.run().value()).isEqualTo("sink:123");
        assertThat(runnable.run().value()).isEqualTo("sink:123"); // a fresh writer for the second run
    }

    @Test
    void aFailureUpstreamAbortsTheWriterWithTheCause() {
        AtomicReference<Throwable> aborted = new AtomicReference<>();
        CountDownLatch opened = new CountDownLatch(1);
        Sink<Integer, Long> sink = Sink.of(context -> {
            opened.countDown();
            return new Sink.Writer<Integer, Long>() {
                @Override
                public void write(Integer item) {}

                @Override
                public Long complete() {
                    return 0L;
                }

                @Override
                public void abort(Throwable cause) {
                    aborted.set(cause);
                }
            };
        });
        assertThatThrownBy(() -> Pipeline.from(Source.of(1, 2, 3))
                        .map(x -> {
                            opened.await();
                            if (x == 2) {
                                throw new IllegalArgumentException("bad item 2");
                            }
                            return x;
                        })
                        .to(sink)
                        .run())
                .isInstanceOf(PipelineFailedException.class);
        // run() returns after every stage thread has ended, so the writer has been told
        assertThat(aborted.get()).hasMessage("bad item 2");
    }

    @Test
    void aWriterIsCompletedOrAbortedAndAbortedAfterACompleteThatThrew() throws Exception {
        List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.io.IOException flushFailed = new java.io.IOException("the last flush failed");
        class Recording implements Sink.Writer<Integer, Integer> {
            private final boolean failComplete;
            private int written;

            Recording(boolean failComplete) {
                this.failComplete = failComplete;
            }

            @Override
            public void write(Integer item) {
                written++;
            }

            @Override
            public Integer complete() throws java.io.IOException {
                calls.add("complete");
                if (failComplete) {
                    throw flushFailed;
                }
                return written;
            }

            @Override
            public void abort(Throwable cause) {
                calls.add("abort: " + cause.getMessage());
            }
        }
        // a complete that returns: no abort
        assertThat(Pipeline.from(Source.of(1, 2, 3))
                        .to(Sink.of(context -> new Recording(false)))
                        .run()
                        .value())
                .isEqualTo(3);
        assertThat(calls).containsExactly("complete");
        // a complete that throws fails the run, and the writer is then aborted, once, with that failure
        calls.clear();
        assertThatThrownBy(() -> Pipeline.from(Source.of(1, 2, 3))
                        .to(Sink.of(context -> new Recording(true)))
                        .run())
                .isInstanceOf(PipelineFailedException.class)
                .hasCause(flushFailed);
        assertThat(calls).containsExactly("complete", "abort: the last flush failed");
    }

    @Test
    void aWriteThatThrowsFollowsTheSinksErrorPolicy() throws Exception {
        Sink<Integer, List<Integer>> evenOnly = Sink.of(context -> new Sink.Writer<Integer, List<Integer>>() {
            private final List<Integer> kept = new ArrayList<>();

            @Override
            public void write(Integer item) {
                if (item % 2 == 1) {
                    throw new IllegalArgumentException("odd: " + item);
                }
                kept.add(item);
            }

            @Override
            public List<Integer> complete() {
                return kept;
            }
        });
        PipelineResult<List<Integer>> result = Pipeline.from(Source.of(1, 2, 3, 4))
                .to(evenOnly.onError(ErrorPolicy.skip()).named("evens"))
                .run();
        assertThat(result.value()).containsExactly(2, 4);
        assertThat(result.summary().stage("evens").orElseThrow().skipped()).isEqualTo(2);
    }

    @Test
    void anOpenThatReturnsNullFailsTheRunWithAMessage() {
        assertThatThrownBy(() -> Pipeline.from(Source.of(1))
                        .to(Sink.<Integer, Long>of(context -> null))
                        .run())
                .isInstanceOf(PipelineFailedException.class)
                .hasRootCauseMessage("the open function of Sink.of returned null");
    }
}
