package dev.sluice.pipeline.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Benchmark 2: four producers and four consumers on virtual threads share one link of 1024; 1,000,000 items in
 * all, a quarter sent and a quarter received by each thread. Score: nanoseconds per item.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class ManyToManyBenchmark {

    static final int ITEMS = 1_000_000;
    static final int PRODUCERS = 4;
    static final int CONSUMERS = 4;
    static final int CAPACITY = 1024;

    private Long[] items;

    @Setup
    public void setUp() {
        items = Items.boxed(ITEMS);
    }

    /** Sluice's public channel. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long sluice(ProbeLine probe) throws InterruptedException {
        probe.moved(ITEMS);
        return run(LinkKind.SLUICE_MPMC);
    }

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
        return HandOff.manyToMany(
                kind.create(CAPACITY, PRODUCERS, CONSUMERS), ThreadKind.VIRTUAL, PRODUCERS, CONSUMERS, items);
    }
}
