package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Order per key against no order at all: 8,192 items through a blocking call of 1 ms ({@link BlockingCall}) with
 * {@code concurrency} calls in flight, by {@code mapConcurrentByKey} over {@code keys} distinct keys (item modulo
 * keys) and by {@code mapConcurrentUnordered}, results summed. With many keys the two should be close: the ratio
 * is what per-key order costs. Score: nanoseconds per item.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class KeyedMapBenchmark {

    static final int ITEMS = 8192;

    @Param({"16", "256"})
    public int concurrency;

    @Param({"4096"})
    public int keys;

    private Long[] items;

    @Setup
    public void setUp() {
        items = Items.boxed(ITEMS);
    }

    /** {@code mapConcurrentByKey(concurrency, x -> x % keys, call)}: input order within each key. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long sluiceByKey() throws InterruptedException {
        BlockingCall call = new BlockingCall();
        int k = keys;
        long sum = Pipeline.from(Source.from(Arrays.asList(items)))
                .mapConcurrentByKey(concurrency, x -> x % k, call::apply)
                .to(Sink.reduce(0L, Long::sum))
                .run()
                .value();
        return Items.expect("mapConcurrentByKey sum", ConcurrentMapping.expectedSum(ITEMS), sum);
    }

    /** {@code mapConcurrentUnordered(concurrency, call)}: the same calls with no order kept. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long sluiceUnordered() throws InterruptedException {
        return ConcurrentMapping.sluiceUnordered(items, concurrency, new BlockingCall());
    }
}
