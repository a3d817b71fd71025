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
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Not a comparison: the JDK's virtual-thread scheduler alone, the floor under every benchmark where threads wait
 * (see {@link Switches}). {@code yields}: nanoseconds of wall time per {@link Thread#yield()}, with 2 or 100 virtual
 * threads yielding on the machine's carriers (2 here, so each yield costs its carrier about twice the figure).
 * {@code pingPong}: nanoseconds per turn of two virtual threads that park and unpark each other.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SchedulerBenchmark {

    static final int YIELDS_IN_ALL = 200_000;
    static final int ROUNDS = 100_000;

    /** How many virtual threads yield at once (a parameter of {@link #yields} only). */
    @State(Scope.Benchmark)
    public static class Yielders {
        @Param({"2", "100"})
        public int threads;
    }

    @Benchmark
    @OperationsPerInvocation(YIELDS_IN_ALL)
    public long yields(Yielders yielders) throws InterruptedException {
        return Switches.yields(yielders.threads, YIELDS_IN_ALL / yielders.threads);
    }

    @Benchmark
    @OperationsPerInvocation(2 * ROUNDS)
    public long pingPong() throws InterruptedException {
        return Switches.pingPong(ROUNDS);
    }
}
