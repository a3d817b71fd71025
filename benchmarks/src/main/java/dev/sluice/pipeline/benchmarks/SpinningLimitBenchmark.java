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
 * The physical limit of benchmark 1: the same 1,000,000-item hand-off through a JCTools {@code SpscArrayQueue}
 * between two platform threads that spin instead of parking. Platform threads only: two spinning virtual threads
 * would hold both carriers of a two-core machine.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class SpinningLimitBenchmark {

    @Param({"16", "1024"})
    public int capacity;

    private Long[] items;

    @Setup
    public void setUp() {
        items = Items.boxed(HandOffBenchmark.ITEMS);
    }

    @Benchmark
    @OperationsPerInvocation(HandOffBenchmark.ITEMS)
    public long jctoolsSpscSpinning() throws InterruptedException {
        return HandOff.spinning(capacity, items);
    }
}
