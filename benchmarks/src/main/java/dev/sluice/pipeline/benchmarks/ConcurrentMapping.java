package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import java.util.Arrays;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Benchmark 5: a blocking call applied to every item with {@code n} calls in flight, results summed. Every variant
 * returns the checked sum of {@code item + 1}.
 */
final class ConcurrentMapping {

    private ConcurrentMapping() {}

    static long expectedSum(int items) {
        return Items.sumOfRange(1, items);
    }

    /** {@code mapConcurrent(n, call)}: results in input order. */
    static long sluiceOrdered(Long[] items, int n, BlockingCall call) throws InterruptedException {
        long sum = Pipeline.from(Source.from(Arrays.asList(items)))
                .mapConcurrent(n, call::apply)
                .to(Sink.reduce(0L, Long::sum))
                .run()
                .value();
        return Items.expect("mapConcurrent sum", expectedSum(items.length), sum);
    }

    /** {@code mapConcurrentUnordered(n, call)}: results as they complete. */
    static long sluiceUnordered(Long[] items, int n, BlockingCall call) throws InterruptedException {
        long sum = Pipeline.from(Source.from(Arrays.asList(items)))
                .mapConcurrentUnordered(n, call::apply)
                .to(Sink.reduce(0L, Long::sum))
                .run()
                .value();
        return Items.expect("mapConcurrentUnordered sum", expectedSum(items.length), sum);
    }

    /**
     * Reactor's {@code flatMap(call on scheduler, n)}: results as they complete. The scheduler must have at least
     * {@code n} threads (Reactor's shared {@code boundedElastic} has 10 per core), or Reactor cannot run n calls.
     */
    static long reactorFlatMap(Long[] items, int n, Scheduler scheduler, BlockingCall call) {
        Long sum = Flux.fromIterable(List.of(items))
                .flatMap(x -> Mono.fromCallable(() -> call.apply(x)).subscribeOn(scheduler), n)
                .reduce(0L, Long::sum)
                .block();
        return Items.expect("flatMap sum", expectedSum(items.length), sum == null ? -1 : sum);
    }

    /** Reactor's {@code flatMapSequential}: the ordered counterpart of {@link #reactorFlatMap}. */
    static long reactorFlatMapSequential(Long[] items, int n, Scheduler scheduler, BlockingCall call) {
        Long sum = Flux.fromIterable(List.of(items))
                .flatMapSequential(x -> Mono.fromCallable(() -> call.apply(x)).subscribeOn(scheduler), n)
                .reduce(0L, Long::sum)
                .block();
        return Items.expect("flatMapSequential sum", expectedSum(items.length), sum == null ? -1 : sum);
    }
}
