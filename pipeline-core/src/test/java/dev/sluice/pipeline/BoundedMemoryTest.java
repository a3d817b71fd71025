package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A fast source and a sink that stalls now and then, a million items: the source never runs further ahead of
 * the sink than the bound the Pipeline Javadoc gives for that pipeline. Counted in source items, on counters:
 * {@code emitted} rises once the pipeline has taken an item, {@code done} once the sink has finished with it.
 */
class BoundedMemoryTest {

    private static final int ITEMS = 1_000_000;
    private static final int CAP = Pipeline.DEFAULT_CAPACITY;
    private static final int GROUP = Pipeline.TRANSFER_BATCH;

    /** A pipeline between the source and the sink, and its bound, derived from the documented formula. */
    record Shape(String name, Function<Pipeline<Long>, Pipeline<?>> middle, long bound, long linkCapacity) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> shapes() {
        return Stream.of(
                        // links: 2 × 256; stages: map's group, the sink's group
                        new Shape("map", p -> p.map(x -> x), 2L * CAP + GROUP + GROUP, 2L * CAP),
                        // links: 256 items, then 4 lists of 100; stages: one batch in hand, the sink's group of 4 lists
                        new Shape(
                                "batch",
                                p -> p.batch(100, Duration.ofMillis(50)).buffer(4),
                                CAP + 100 + 4 * 100 + 4 * 100,
                                CAP + 4 * 100),
                        // flatMap(x -> 3 copies): each element of the second link stands for at most one source item
                        new Shape("flatMap", p -> p.flatMap(x -> List.of(x, x, x)), 2L * CAP + GROUP + GROUP, 2L * CAP),
                        // links: 2 × 256; stages: dispatcher's group, the 2 × 8 window, the emitter's group, the sink's
                        // group
                        new Shape(
                                "mapConcurrent",
                                p -> p.mapConcurrent(8, x -> x),
                                2L * CAP + GROUP + 16 + GROUP + GROUP,
                                2L * CAP),
                        // links: 2 × 256; stages: one item per worker, the sink's group
                        new Shape(
                                "mapConcurrentUnordered",
                                p -> p.mapConcurrentUnordered(8, x -> x),
                                2L * CAP + 8 + GROUP,
                                2L * CAP))
                .map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    @Timeout(120)
    void theSourceNeverRunsFurtherAheadThanTheBound(Shape shape) throws Exception {
        // given
        AtomicLong emitted = new AtomicLong();
        AtomicLong done = new AtomicLong();
        AtomicLong maxAhead = new AtomicLong();
        AtomicLong copies = new AtomicLong();
        Source<Long> fast = emitter -> {
            for (long i = 0; i < ITEMS; i++) {
                emitter.emit(i);
                emitted.incrementAndGet();
            }
        };
        CheckedConsumer<Object> stallingSink = item -> {
            long finished = item instanceof List<?> batch
                    ? done.addAndGet(batch.size())
                    : shape.name().equals("flatMap")
                            // a source item is done when the last of its three copies arrives
                            ? (copies.incrementAndGet() % 3 == 0 ? done.incrementAndGet() : done.get())
                            : done.incrementAndGet();
            maxAhead.accumulateAndGet(emitted.get() - finished, Math::max);
            if (finished % 100_000 == 0) {
                Thread.sleep(20); // stalls now and then: the source fills every buffer meanwhile
            }
        };
        // when
        @SuppressWarnings("unchecked")
        Pipeline<Object> middle = (Pipeline<Object>) shape.middle().apply(Pipeline.from(fast));
        PipelineResult<Long> result = middle.to(Sink.forEach(stallingSink)).run();
        // then
        assertThat(done.get()).isEqualTo(ITEMS);
        assertThat(maxAhead.get()).as("items between source and sink").isLessThanOrEqualTo(shape.bound());
        assertThat(maxAhead.get())
                .as("the stalls did fill the links (else this test proves nothing)")
                .isGreaterThanOrEqualTo(shape.linkCapacity() / 2);
        assertThat(result.outcome()).isEqualTo(Outcome.COMPLETED);
    }
}
