package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import java.util.stream.LongStream;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * Benchmark 4: source → map(x + 1) → sum of the longs {@code 0 .. n - 1}, every item boxed, each stage on its own
 * thread (except the sequential floor). Every variant returns the checked sum {@code 1 + 2 + ... + n}.
 */
final class ThreeStages {

    private ThreeStages() {}

    static long expectedSum(int n) {
        return Items.sumOfRange(1, n);
    }

    /** The Sluice pipeline as a user writes it, with its default links (256 items). */
    static long sluicePipeline(int n) throws InterruptedException {
        long sum = Pipeline.from(Source.range(0, n))
                .map(x -> x + 1)
                .to(Sink.reduce(0L, Long::sum))
                .run()
                .value();
        return Items.expect("three-stage sum", expectedSum(n), sum);
    }

    /**
     * Reactor with a {@code publishOn} between stages: the source emits on {@code sourceThread} (a
     * {@code subscribeOn}, so that it does not share the map's thread), the map runs on {@code mapThread}, the sum
     * on {@code sumThread}. The queues between them are {@code publishOn}'s default prefetch, 256, as Sluice's
     * default link.
     */
    static long reactor(int n, Scheduler sourceThread, Scheduler mapThread, Scheduler sumThread) {
        Long sum = Flux.fromStream(() -> LongStream.range(0, n).boxed())
                .subscribeOn(sourceThread)
                .publishOn(mapThread)
                .map(x -> x + 1)
                .publishOn(sumThread)
                .reduce(0L, Long::sum)
                .block();
        return Items.expect("three-stage sum", expectedSum(n), sum == null ? -1 : sum);
    }

    /**
     * The three stages written by hand: three virtual threads and two links of the given kind and capacity. Each
     * stage knows the item count, so no end marker is needed: the cheapest hand-written version.
     */
    static long byHand(LinkKind kind, int capacity, int n) throws InterruptedException {
        Link<Long> mapIn = kind.create(capacity, 1, 1);
        Link<Long> sumIn = kind.create(capacity, 1, 1);
        long[] sum = new long[1];
        new Workers(ThreadKind.VIRTUAL)
                .add("source", () -> {
                    for (long i = 0; i < n; i++) {
                        mapIn.send(i);
                    }
                })
                .add("map", () -> {
                    for (int i = 0; i < n; i++) {
                        sumIn.send(mapIn.receive() + 1);
                    }
                })
                .add("sum", () -> {
                    long s = 0;
                    for (int i = 0; i < n; i++) {
                        s += sumIn.receive();
                    }
                    sum[0] = s;
                })
                .runAll();
        return Items.expect("three-stage sum", expectedSum(n), sum[0]);
    }

    /** The floor: the same work as one sequential stream on the calling thread. */
    static long sequentialStream(int n) {
        long sum = LongStream.range(0, n).boxed().map(x -> x + 1).reduce(0L, Long::sum);
        return Items.expect("three-stage sum", expectedSum(n), sum);
    }
}
