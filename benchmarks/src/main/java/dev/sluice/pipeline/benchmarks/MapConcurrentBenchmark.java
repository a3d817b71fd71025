package dev.sluice.pipeline.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Benchmark 5: 8,192 items through a blocking call of 1 ms ({@link BlockingCall}) with {@code concurrency} calls in
 * flight, results summed. Score: nanoseconds per item. The ideal is {@code callNanos / calls / concurrency} per
 * item: the secondary results {@code callNanos} and {@code calls} carry the measured duration of the calls in the
 * same iterations (a 1 ms sleep takes longer than 1 ms), and the report divides.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class MapConcurrentBenchmark {

    static final int ITEMS = 8192;

    @Param({"16", "256"})
    public int concurrency;

    private Long[] items;
    /** Reactor's own pool of {@code concurrency} threads: the shared boundedElastic caps at 10 per core. */
    private Scheduler elastic;

    /** The measured time of the blocking calls, per iteration. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class CallTime {
        /** Total nanoseconds spent inside the blocking calls. */
        public long callNanos;
        /** Number of blocking calls. */
        public long calls;

        @Setup(Level.Iteration)
        public void reset() {
            callNanos = 0;
            calls = 0;
        }

        void add(BlockingCall call) {
            callNanos += call.totalNanos();
            calls += call.calls();
        }
    }

    @Setup
    public void setUp() {
        items = Items.boxed(ITEMS);
        elastic = Schedulers.newBoundedElastic(concurrency, Integer.MAX_VALUE, "reactor-elastic");
    }

    @TearDown
    public void tearDown() {
        elastic.dispose();
    }

    /** {@code mapConcurrent(concurrency, call)}: input order kept. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long sluiceOrdered(CallTime time) throws InterruptedException {
        BlockingCall call = new BlockingCall();
        long sum = ConcurrentMapping.sluiceOrdered(items, concurrency, call);
        time.add(call);
        return sum;
    }

    /** {@code mapConcurrentUnordered(concurrency, call)}. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long sluiceUnordered(CallTime time) throws InterruptedException {
        BlockingCall call = new BlockingCall();
        long sum = ConcurrentMapping.sluiceUnordered(items, concurrency, call);
        time.add(call);
        return sum;
    }

    /** Reactor {@code flatMap(call on newBoundedElastic(concurrency), concurrency)}: unordered. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long reactorFlatMap(CallTime time) {
        BlockingCall call = new BlockingCall();
        long sum = ConcurrentMapping.reactorFlatMap(items, concurrency, elastic, call);
        time.add(call);
        return sum;
    }

    /** Reactor {@code flatMapSequential}: ordered, the counterpart of {@code mapConcurrent}. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long reactorFlatMapSequential(CallTime time) {
        BlockingCall call = new BlockingCall();
        long sum = ConcurrentMapping.reactorFlatMapSequential(items, concurrency, elastic, call);
        time.add(call);
        return sum;
    }
}
