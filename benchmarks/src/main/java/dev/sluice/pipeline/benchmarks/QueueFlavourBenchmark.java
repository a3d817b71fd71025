package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.Channel;
import dev.sluice.pipeline.internal.BoundedChannel;
import java.lang.reflect.Field;
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
 * The rings a channel can keep its items in, inside Sluice's channel: Sluice's own rings (the default, {@code
 * sluice}), JCTools' array queues on field updaters ({@code atomic}) and on {@code sun.misc.Unsafe} ({@code unsafe}).
 * The 1,000,000-item hand-off of benchmark 1 on virtual threads, SPSC and MPMC channels, capacities 16 and 1024.
 *
 * <p>The flavour is chosen once per JVM by the system property {@code sluice.channel.queues}, so each flavour is a
 * separate run: {@code -jvmArgsAppend "-Xms2g -Xmx2g -XX:+AlwaysPreTouch -Dsluice.channel.queues=unsafe" -p
 * flavour=unsafe} (the run script does both). The {@code flavour} parameter only labels the results; the set-up
 * checks that it names the queues the channel really uses, so a mislabelled run fails.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class QueueFlavourBenchmark {

    static final String FLAVOUR_PROPERTY = "sluice.channel.queues";

    @Param({"16", "1024"})
    public int capacity;

    /** {@code sluice}, {@code atomic} or {@code unsafe}: must match {@code -Dsluice.channel.queues} (default sluice). */
    @Param({"sluice"})
    public String flavour;

    private Long[] items;

    @Setup
    public void setUp() throws ReflectiveOperationException {
        items = Items.boxed(HandOffBenchmark.ITEMS);
        String inUse = flavourInUse();
        if (!inUse.equals(flavour)) {
            throw new IllegalStateException("the channel uses the " + inUse + " queues but the run is labelled "
                    + flavour + ": pass -Dsluice.channel.queues=" + flavour + " through -jvmArgsAppend");
        }
    }

    @Benchmark
    @OperationsPerInvocation(HandOffBenchmark.ITEMS)
    public long spsc() throws InterruptedException {
        return HandOff.oneToOne(LinkKind.SLUICE_SPSC.create(capacity, 1, 1), ThreadKind.VIRTUAL, items);
    }

    @Benchmark
    @OperationsPerInvocation(HandOffBenchmark.ITEMS)
    public long mpmc() throws InterruptedException {
        return HandOff.oneToOne(LinkKind.SLUICE_MPMC.create(capacity, 1, 1), ThreadKind.VIRTUAL, items);
    }

    /** {@code sluice}, {@code atomic} or {@code unsafe}, read from the ring inside a fresh channel. */
    static String flavourInUse() throws ReflectiveOperationException {
        Channel<Object> channel = Channel.bounded(16);
        Field ringField = BoundedChannel.class.getDeclaredField("ring");
        ringField.setAccessible(true);
        Object ring = ringField.get(channel);
        if (!ring.getClass().getSimpleName().equals("QueueRing")) {
            return "sluice";
        }
        Field queueField = ring.getClass().getDeclaredField("queue");
        queueField.setAccessible(true);
        String queueClass = queueField.get(ring).getClass().getName();
        return queueClass.startsWith("org.jctools.queues.atomic.") ? "atomic" : "unsafe";
    }
}
