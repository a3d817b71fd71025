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
 * Benchmark 3: a chain of 100 virtual-thread stages (a source, 98 relays, a sink) joined by 99 links of 16 items;
 * 20,000 items go through. Score: nanoseconds per item and hop (the invocation's time divided by 20,000 × 99).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class ChainBenchmark {

    static final int STAGES = 100;
    static final int CAPACITY = 16;
    static final int ITEMS = 20_000;
    static final int ITEM_HOPS = ITEMS * (STAGES - 1);

    private Long[] items;

    @Setup
    public void setUp() {
        items = Items.boxed(ITEMS);
    }

    /** Sluice's SPSC channel between every two stages (what a pipeline uses). */
    @Benchmark
    @OperationsPerInvocation(ITEM_HOPS)
    public long sluiceSpsc(ProbeLine probe) throws InterruptedException {
        probe.moved(ITEM_HOPS);
        return StageChain.byHand(LinkKind.SLUICE_SPSC, STAGES, CAPACITY, items);
    }

    /** Sluice's public channel between every two stages. */
    @Benchmark
    @OperationsPerInvocation(ITEM_HOPS)
    public long sluiceMpmc(ProbeLine probe) throws InterruptedException {
        probe.moved(ITEM_HOPS);
        return StageChain.byHand(LinkKind.SLUICE_MPMC, STAGES, CAPACITY, items);
    }

    /** A Sluice pipeline of 98 identity maps with {@code buffer(16)} links: moves items in groups of up to 16. */
    @Benchmark
    @OperationsPerInvocation(ITEM_HOPS)
    public long sluicePipeline(ProbeLine probe) throws InterruptedException {
        probe.moved(ITEM_HOPS);
        return StageChain.pipeline(STAGES, CAPACITY, items);
    }

    @Benchmark
    @OperationsPerInvocation(ITEM_HOPS)
    public long arrayBlockingQueue() throws InterruptedException {
        return StageChain.byHand(LinkKind.ARRAY_BLOCKING_QUEUE, STAGES, CAPACITY, items);
    }

    @Benchmark
    @OperationsPerInvocation(ITEM_HOPS)
    public long jox() throws InterruptedException {
        return StageChain.byHand(LinkKind.JOX, STAGES, CAPACITY, items);
    }
}
