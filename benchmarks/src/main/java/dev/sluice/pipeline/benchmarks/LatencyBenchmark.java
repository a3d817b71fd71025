package dev.sluice.pipeline.benchmarks;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The latency of an item through a three-stage pipeline that is not saturated ({@link Latency}): the source paced at
 * {@code load} percent of the Sluice pipeline's saturated throughput, measured at the start of each fork by running
 * the unpaced pipeline ({@link ThreeStages#sluicePipeline}); Sluice's pipeline and Reactor's {@code publishOn}
 * pipeline at the same rates, each with the source's two ways of waiting for an item's due time ({@code pacer}:
 * {@code yield}, the one the targets read, and {@code spin}; {@link Latency.Pacer}). The score is JMH's time per paced run, which only says the pacing held; the figures are
 * the percentiles of the time from an item's due time to the sink over every measured run of the fork, printed at the
 * end of the fork as one line {@code LATENCY {...}} (JSON) that {@code report.py} reads from the run's log. The floor
 * they compare with is the scheduler's own hand-off ({@code SchedulerBenchmark.pingPong}) times the two hops.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 5)
@Measurement(iterations = 10)
@State(Scope.Benchmark)
public class LatencyBenchmark {

    static final int ITEMS = 200_000;
    static final int SATURATION_RUNS = 7;

    @Param({"sluice", "reactor"})
    public String pipeline;

    @Param({"10", "50", "90"})
    public int load;

    @Param({"yield", "spin"})
    public String pacer;

    private long saturatedNanosPerItem;
    private long intervalNanos;
    private Latency.Pacer waiting;
    private final Histogram all = new Histogram(3_600_000_000_000L, 3);
    private Histogram iteration;
    private boolean measuring;
    private Scheduler sourceThread;
    private Scheduler mapThread;
    private Scheduler sinkThread;

    @Setup(Level.Trial)
    public void setUp() throws InterruptedException {
        if (load < 1 || load > 100) {
            throw new IllegalArgumentException("load must be a percentage from 1 to 100, got " + load);
        }
        waiting = switch (pacer) {
            case "yield" -> Latency.Pacer.YIELD;
            case "spin" -> Latency.Pacer.SPIN;
            default -> throw new IllegalArgumentException("pacer must be yield or spin, got " + pacer);
        };
        long best = Long.MAX_VALUE;
        for (int r = 0; r < SATURATION_RUNS; r++) {
            long t0 = System.nanoTime();
            ThreeStages.sluicePipeline(ITEMS);
            best = Math.min(best, System.nanoTime() - t0);
        }
        saturatedNanosPerItem = Math.max(1, best / ITEMS);
        intervalNanos = Math.max(1, saturatedNanosPerItem * 100 / load);
        if ("reactor".equals(pipeline)) {
            sourceThread = Schedulers.newSingle("source");
            mapThread = Schedulers.newSingle("map");
            sinkThread = Schedulers.newSingle("sink");
        } else if (!"sluice".equals(pipeline)) {
            throw new IllegalArgumentException("pipeline must be sluice or reactor, got " + pipeline);
        }
    }

    @Setup(Level.Iteration)
    public void startIteration(IterationParams params) {
        measuring = params.getType() == IterationType.MEASUREMENT;
        iteration = new Histogram(3_600_000_000_000L, 3);
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        if (measuring) {
            all.add(iteration);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (sourceThread != null) {
            sourceThread.dispose();
            mapThread.dispose();
            sinkThread.dispose();
        }
        System.out.println(String.format(
                Locale.ROOT,
                "LATENCY {\"pipeline\": \"%s\", \"load\": %d, \"pacer\": \"%s\", \"saturatedNanosPerItem\": %d, \"intervalNanos\": %d,"
                        + " \"count\": %d, \"p50\": %d, \"p99\": %d, \"p999\": %d, \"max\": %d}",
                pipeline,
                load,
                pacer,
                saturatedNanosPerItem,
                intervalNanos,
                all.getTotalCount(),
                all.getValueAtPercentile(50),
                all.getValueAtPercentile(99),
                all.getValueAtPercentile(99.9),
                all.getMaxValue()));
    }

    /** One paced run of {@value #ITEMS} items. */
    @Benchmark
    public long pacedRun() throws InterruptedException {
        return "sluice".equals(pipeline)
                ? Latency.sluice(ITEMS, intervalNanos, waiting, iteration)
                : Latency.reactor(ITEMS, intervalNanos, waiting, iteration, sourceThread, mapThread, sinkThread);
    }
}
