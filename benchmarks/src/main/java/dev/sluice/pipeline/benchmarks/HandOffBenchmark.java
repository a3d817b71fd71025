package dev.sluice.pipeline.benchmarks;

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
 * Benchmark 1: one producer hands 1,000,000 items to one consumer through a bounded link, one item per call; both
 * wait when they must. Score: nanoseconds per item, producer and consumer threads started anew for every
 * invocation (a few microseconds against tenths of a second). The spinning limit is {@link SpinningLimitBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class HandOffBenchmark {

    static final int ITEMS = 1_000_000;

    @Param({"16", "1024"})
    public int capacity;

    @Param({"virtual", "platform"})
    public String threads;

    private Long[] items;
    private ThreadKind threadKind;

    @Setup
    public void setUp() {
        items = Items.boxed(ITEMS);
        threadKind = ThreadKind.of(threads);
    }

    /** Sluice's SPSC channel, as a pipeline links two single-threaded stages. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long sluiceSpsc(ProbeLine probe) throws InterruptedException {
        probe.moved(ITEMS);
        return run(LinkKind.SLUICE_SPSC);
    }

    /** Sluice's public channel, {@code Channel.bounded(capacity)}. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long sluiceMpmc(ProbeLine probe) throws InterruptedException {
        probe.moved(ITEMS);
        return run(LinkKind.SLUICE_MPMC);
    }

    /** Sluice's reference channel (lock + ArrayBlockingQueue), the oracle of its tests. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long sluiceReference() throws InterruptedException {
        return run(LinkKind.SLUICE_REFERENCE);
    }

    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long arrayBlockingQueue() throws InterruptedException {
        return run(LinkKind.ARRAY_BLOCKING_QUEUE);
    }

    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long linkedBlockingQueue() throws InterruptedException {
        return run(LinkKind.LINKED_BLOCKING_QUEUE);
    }

    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long jox() throws InterruptedException {
        return run(LinkKind.JOX);
    }

    private long run(LinkKind kind) throws InterruptedException {
        return HandOff.oneToOne(kind.create(capacity, 1, 1), threadKind, items);
    }
}
