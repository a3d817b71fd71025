package dev.sluice.pipeline.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The hot path alone: one thread sends an item and receives it back, so nobody ever waits. Score: nanoseconds
 * per send-and-receive. Run with {@code -prof gc}: {@code gc.alloc.rate.norm} is what a send and a receive allocate
 * when no thread has to park, which must be 0 for Sluice's channels.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Thread)
public class ChannelHotPathBenchmark {

    static final int CAPACITY = 1024;
    private static final Long ITEM = 42L;

    private Link<Long> sluiceSpsc;
    private Link<Long> sluiceMpmc;
    private Link<Long> arrayBlockingQueue;
    private Link<Long> jox;

    @Setup
    public void setUp() {
        sluiceSpsc = LinkKind.SLUICE_SPSC.create(CAPACITY, 1, 1);
        sluiceMpmc = LinkKind.SLUICE_MPMC.create(CAPACITY);
        arrayBlockingQueue = LinkKind.ARRAY_BLOCKING_QUEUE.create(CAPACITY);
        jox = LinkKind.JOX.create(CAPACITY);
    }

    @Benchmark
    public Long sluiceSpsc() throws InterruptedException {
        return roundTrip(sluiceSpsc);
    }

    @Benchmark
    public Long sluiceMpmc() throws InterruptedException {
        return roundTrip(sluiceMpmc);
    }

    @Benchmark
    public Long arrayBlockingQueue() throws InterruptedException {
        return roundTrip(arrayBlockingQueue);
    }

    @Benchmark
    public Long jox() throws InterruptedException {
        return roundTrip(jox);
    }

    private static Long roundTrip(Link<Long> link) throws InterruptedException {
        link.send(ITEM);
        Long item = link.receive();
        if (item != ITEM) {
            throw new IllegalStateException("sent " + ITEM + ", received " + item);
        }
        return item;
    }
}
