package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.grpc.GrpcSource;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Benchmark 6: a gRPC server stream of 1,000,000 small items ({@link ItemStreamServer}: 16-byte payload, sequence and
 * cursor), read to the end, in-process and over Netty on loopback (the blocking stub reads the first
 * {@value #BLOCKING_ITEMS}). The server and one channel to it start once per
 * fork; every invocation is one call. Score: nanoseconds per item; the report turns them into items per second and
 * the gRPC source's share of the async stub's throughput (target: at least 0.9).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
// Netty loads its native transport library: allowed up front, instead of a warning in every fork's log.
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class GrpcSourceBenchmark {

    static final int ITEMS = 1_000_000;
    /**
     * The blocking stub reads a tenth of the stream: it asks for one message at a time and each costs it two thread
     * hops (its {@code request(1)} to the transport, the message back to the reader), about 20 µs over Netty here, so
     * a million would take 20 s and more per invocation. Per item, the score is the same.
     */
    static final int BLOCKING_ITEMS = 100_000;

    @Param({"inProcess", "netty"})
    public String transport;

    private ItemStreamServer server;

    @Setup
    public void setUp() {
        server = ItemStreamServer.start(ItemStreamServer.Transport.of(transport), ITEMS);
    }

    @TearDown
    public void tearDown() {
        server.close();
    }

    /** {@code Pipeline.from(GrpcSource...prefetch(256)).to(Sink.forEach(count)).run()}: the default prefetch. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long sluiceSource() throws InterruptedException {
        return GrpcStreams.sluiceSource(server.channel(), ITEMS, GrpcSource.DEFAULT_PREFETCH);
    }

    /** The ceiling: the async stub, automatic flow control, counting in {@code onNext} on the transport thread. */
    @Benchmark
    @OperationsPerInvocation(ITEMS)
    public long asyncStub() throws InterruptedException {
        return GrpcStreams.asyncStub(server.channel(), ITEMS);
    }

    /** The blocking stub's iterator on the benchmark thread, {@value #BLOCKING_ITEMS} items of the same stream. */
    @Benchmark
    @OperationsPerInvocation(BLOCKING_ITEMS)
    public long blockingStub() {
        return GrpcStreams.blockingStub(server.channel(), BLOCKING_ITEMS);
    }
}
