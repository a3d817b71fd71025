package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import java.util.concurrent.TimeUnit;
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
import org.slf4j.MDC;

/**
 * What carrying the caller's context costs: the three-stage pipeline (source → map(x + 1) → sum) run with the
 * caller's MDC holding two keys, with and without {@code propagateContext}. The cost is per run and per thread, not
 * per item, so the runs are short (1,000 items) for it to show. Score: microseconds per run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public class ContextPropagationBenchmark {

    static final int ITEMS = 1_000;

    @Param({"true", "false"})
    public boolean propagate;

    @Setup(Level.Trial)
    public void callerContext() {
        MDC.put("tenant", "acme");
        MDC.put("request", "4f1c2a");
    }

    @TearDown(Level.Trial)
    public void clearCallerContext() {
        MDC.clear();
    }

    /** One run of the three-stage pipeline, from a caller with a context. */
    @Benchmark
    public long threeStageRun() throws InterruptedException {
        return run(propagate, ITEMS);
    }

    static long run(boolean propagate, int n) throws InterruptedException {
        long sum = Pipeline.from(Source.range(0, n))
                .propagateContext(propagate)
                .map(x -> x + 1)
                .to(Sink.reduce(0L, Long::sum))
                .run()
                .value();
        return Items.expect("three-stage sum", ThreeStages.expectedSum(n), sum);
    }
}
