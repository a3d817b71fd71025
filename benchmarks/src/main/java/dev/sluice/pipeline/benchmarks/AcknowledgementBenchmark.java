package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.Acknowledgement;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PositionTracker;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What acknowledgements cost: the three-stage pipeline (source → map(x + 1) → sum) of 1,000,000 boxed longs,
 * emitted one at a time, without acknowledgements, with one shared acknowledgement that counts, and with a
 * {@link PositionTracker} per run (what a Kafka or checkpointing source does). Score: nanoseconds per item; run
 * with {@code -prof gc} to see the allocation per item (none added on the untracked path).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class AcknowledgementBenchmark {

    static final int ITEMS = 1_000_000;

    /** {@code emitter.emit(i)}: nothing tracked. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long untracked() throws InterruptedException {
        return run(emitter -> {
            for (long i = 0; i < ITEMS; i++) {
                emitter.emit(i);
            }
        });
    }

    /** {@code emitter.emit(i, ack)} with one acknowledgement shared by all items, which counts. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long trackedCounting() throws InterruptedException {
        LongAdder done = new LongAdder();
        Acknowledgement ack = d -> done.increment();
        long sum = run(emitter -> {
            for (long i = 0; i < ITEMS; i++) {
                emitter.emit(i, ack);
            }
        });
        return Items.expect("acknowledgements", ITEMS, done.sum()) + sum;
    }

    /** {@code emitter.emit(i, tracker.track(i))}: each item's position tracked. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long trackedPositions() throws InterruptedException {
        PositionTracker tracker = new PositionTracker(0);
        long sum = run(emitter -> {
            for (long i = 0; i < ITEMS; i++) {
                emitter.emit(i, tracker.track(i));
            }
        });
        return Items.expect("committable position", ITEMS, tracker.committable()) + sum;
    }

    private static long run(Source<Long> source) throws InterruptedException {
        long sum = Pipeline.from(source)
                .map(x -> x + 1)
                .to(Sink.reduce(0L, Long::sum))
                .run()
                .value();
        return Items.expect("three-stage sum", ThreeStages.expectedSum(ITEMS), sum);
    }
}
