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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Benchmark 4: source → map(x + 1) → sum of 1,000,000 boxed longs, each stage on its own thread, queues of 256
 * between stages (Sluice's default link, Reactor's default {@code publishOn} prefetch). Score: nanoseconds per item.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class ThreeStageBenchmark {

    static final int ITEMS = 1_000_000;
    /** The capacity of the hand-written links: Sluice's default, {@code Pipeline.DEFAULT_CAPACITY}. */
    static final int CAPACITY = dev.sluice.pipeline.Pipeline.DEFAULT_CAPACITY;

    private Scheduler sourceThread;
    private Scheduler mapThread;
    private Scheduler sumThread;

    @Setup
    public void setUp() {
        sourceThread = Schedulers.newSingle("reactor-source");
        mapThread = Schedulers.newSingle("reactor-map");
        sumThread = Schedulers.newSingle("reactor-sum");
    }

    @TearDown
    public void tearDown() {
        sourceThread.dispose();
        mapThread.dispose();
        sumThread.dispose();
    }

    /** {@code Pipeline.from(Source.range(0, n)).map(x -> x + 1).to(Sink.reduce(0L, Long::sum)).run()}. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long sluicePipeline() throws InterruptedException {
        return ThreeStages.sluicePipeline(ITEMS);
    }

    /** Reactor, {@code publishOn} between stages, each stage on its own single-thread scheduler. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long reactorPublishOn() {
        return ThreeStages.reactor(ITEMS, sourceThread, mapThread, sumThread);
    }

    /** Three virtual threads and two ArrayBlockingQueues, written by hand. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long arrayBlockingQueueByHand() throws InterruptedException {
        return ThreeStages.byHand(LinkKind.ARRAY_BLOCKING_QUEUE, CAPACITY, ITEMS);
    }

    /** Three virtual threads and two jox channels, written by hand. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long joxByHand() throws InterruptedException {
        return ThreeStages.byHand(LinkKind.JOX, CAPACITY, ITEMS);
    }

    /** Three virtual threads and two Sluice public channels, written by hand, one item per call. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long sluiceChannelsByHand() throws InterruptedException {
        return ThreeStages.byHand(LinkKind.SLUICE_MPMC, CAPACITY, ITEMS);
    }

    /** The floor: one sequential {@code Stream}, no hand-off at all. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long sequentialStream() {
        return ThreeStages.sequentialStream(ITEMS);
    }
}
