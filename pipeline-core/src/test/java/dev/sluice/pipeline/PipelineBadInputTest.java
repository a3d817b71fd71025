package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Bad input fails when the pipeline is built, with a message naming the argument, the value and the rule. */
class PipelineBadInputTest {

    private final Pipeline<Long> p = Pipeline.from(Source.range(0, 10));

    @Test
    void nullFunctionsAreNamed() {
        assertThatThrownBy(() -> Pipeline.from(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("source must not be null");
        assertThatThrownBy(() -> p.map(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("fn must not be null");
        assertThatThrownBy(() -> p.filter(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("predicate must not be null");
        assertThatThrownBy(() -> p.flatMap(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("fn must not be null");
        assertThatThrownBy(() -> p.peek(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("action must not be null");
        assertThatThrownBy(() -> p.mapConcurrent(2, null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("fn must not be null");
        assertThatThrownBy(() -> p.to(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("sink must not be null");
        assertThatThrownBy(() -> Sink.forEach(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("action must not be null");
        assertThatThrownBy(() -> p.listener(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("listener must not be null");
    }

    @Test
    void aConcurrencyMeantAsUnboundedIsRefusedWhenThePipelineIsDescribedNotWhenItRuns() {
        // Integer.MAX_VALUE is how "no limit" is often written; the stages start a thread per call and size their
        // windows from it, so it is refused up front, naming the argument, rather than failing every run.
        for (int concurrency : new int[] {Integer.MAX_VALUE, Pipeline.MAX_CONCURRENCY + 1, 1 << 29}) {
            assertThatThrownBy(() -> p.mapConcurrent(concurrency, x -> x))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("concurrency must be between 1 and 1048576 (2^20; the stage starts a thread for each),"
                            + " got " + concurrency);
            assertThatThrownBy(() -> p.mapConcurrentUnordered(concurrency, x -> x))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("concurrency must be between 1 and 1048576");
            assertThatThrownBy(() -> p.mapConcurrentByKey(concurrency, x -> x, x -> x))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("concurrency must be between 1 and 1048576");
            assertThatThrownBy(() -> p.mapConcurrentByKey(concurrency, 1 << 30, x -> x, x -> x))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("concurrency must be between 1 and 1048576");
        }
    }

    @Test
    void sizesBelowOneAreRefused() {
        assertThatThrownBy(() -> p.batch(0, Duration.ofMillis(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("size must be at least 1, got 0");
        assertThatThrownBy(() -> p.mapConcurrent(0, x -> x))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(
                        "concurrency must be between 1 and 1048576 (2^20; the stage starts a thread for each), got 0");
        assertThatThrownBy(() -> p.mapConcurrentUnordered(-3, x -> x))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageEndingWith("got -3");
        assertThatThrownBy(() -> p.buffer(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("capacity must be between 1 and 1073741824 (2^30, the largest ring a channel's queue can "
                        + "hold), got 0");
        assertThatThrownBy(() -> p.buffer((1 << 30) + 1, Overflow.DROP_NEWEST))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("capacity must be between 1 and 1073741824")
                .hasMessageEndingWith("got 1073741825");
        assertThatThrownBy(() -> p.take(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("limit must not be negative, got -1");
        assertThatThrownBy(() -> Sink.forEachBatch(0, x -> {}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxBatch must be at least 1, got 0");
        assertThatThrownBy(() -> Source.fromPublisher(s -> {}, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("prefetch must be between 1 and 1073741824, got 0");
        assertThatThrownBy(() -> Source.fromPublisher(s -> {}, Integer.MAX_VALUE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("prefetch must be between 1 and 1073741824, got 2147483647");
        assertThatThrownBy(() -> Source.range(5, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[5, 1)");
    }

    @Test
    void durationsMustBePositive() {
        assertThatThrownBy(() -> p.batch(10, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxWait must be positive, got PT0S");
        assertThatThrownBy(() -> p.batch(10, Duration.ofMillis(-5)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxWait must be positive, got PT-0.005S");
        assertThatThrownBy(() -> p.listener(new PipelineListener() {}, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("progressInterval must be positive, got PT0S");
        assertThatThrownBy(() -> p.watchdog(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("interval must be positive, got PT0S");
        assertThatThrownBy(() -> p.to(Sink.count()).run(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("timeout must be positive, got PT0S");
        assertThatThrownBy(() -> p.to(Sink.count()).start().stop(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("grace must not be negative, got PT-1S");
    }

    @Test
    void namesMustBeNonBlankAndUnique() {
        assertThatThrownBy(() -> p.pipelineName(" "))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("pipelineName must not be blank, got ' '");
        assertThatThrownBy(() -> p.map(x -> x).named("source"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("stage name 'source' is already used by stage 0");
        assertThatThrownBy(() -> p.to(Sink.<Long>count().named("source")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'source' is used twice");
    }

    @Test
    void anErrorPolicyNeedsAStageWithAFunction() {
        assertThatThrownBy(() -> p.onError(ErrorPolicy.skip()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'source' runs no function");
        assertThatThrownBy(() -> p.take(3).onError(ErrorPolicy.skip()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'take'");
    }
}
