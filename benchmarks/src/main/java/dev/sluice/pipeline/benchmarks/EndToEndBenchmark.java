package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.proto.workflow.User;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Benchmark 14: the examples' demo job end to end ({@link DemoJob}), against each of its parts alone, on the same
 * {@value #USERS} users per invocation:
 *
 * <ul>
 *   <li>{@code stream}: the demo's gRPC source (a server stream over Netty on loopback, prefetch 256) into a counting
 *       sink;</li>
 *   <li>{@code enrich}: {@code mapConcurrent(64, lookUp)}, a blocking lookup of 200 µs, from an in-memory source into
 *       a counting sink;</li>
 *   <li>{@code insert}: the job's batches of 500 enriched users (built before measuring) inserted into the demo's
 *       SQLite table by one thread in a plain loop, one transaction per batch;</li>
 *   <li>{@code job}: source → {@code mapConcurrent(64, lookUp)} → {@code batch(500, 100 ms)} → {@code buffer(4)} →
 *       the inserting sink.</li>
 * </ul>
 *
 * The server and one channel to it start once per fork, as does the SQLite file (in a directory of the benchmark's
 * own); before each invocation, outside the score, the table is emptied and its write-ahead log checkpointed, and
 * after it the table is counted: it must hold exactly {@value #USERS} distinct users whose scores add up to the
 * lookups' (the enrichment's results, not only their number), or the run fails. Score:
 * nanoseconds per user; the report turns them into users per second and the job's share of its slowest part's
 * throughput (slowest part's ns per user / the job's; target: at least 0.8). The secondary results {@code cpuNanos}
 * and {@code users} carry the CPU time the process spent in the same invocations, which the report turns into CPU
 * nanoseconds per user: the job cannot take less wall time per user than its own CPU per user over the cores it gets,
 * and where its parts keep the cores busy their CPU costs add up in it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
// Netty and SQLite's driver load native libraries: allowed up front, instead of a warning in every fork's log.
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class EndToEndBenchmark {

    static final int USERS = 20_000;

    User[] users;
    List<User> userList;
    List<List<EnrichedUser>> batches;
    long scoreSum;

    @Setup
    public void setUp() {
        users = DemoJob.users(USERS);
        userList = Arrays.asList(users);
        batches = DemoJob.enrichedBatches(users);
        scoreSum = DemoJob.scoreSum(users);
    }

    /**
     * The CPU time the whole process spent in the invocations of an iteration (every thread: the server's and the
     * client's, the JIT's and the collector's), and the users they moved: the report divides, for the CPU each part
     * and the job cost per user. On a machine whose cores the parts keep busy, their costs add up in the job. The
     * operating system counts a process's CPU time in ticks (10 ms on Linux), so the figure is a mean over the many
     * invocations of a run, not a per-invocation measure.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class CpuTime {
        private static final com.sun.management.OperatingSystemMXBean OS =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

        /** Nanoseconds of CPU time of the process in this iteration's invocations. */
        public long cpuNanos;
        /** Users moved in this iteration's invocations. */
        public long users;

        @Setup(Level.Iteration)
        public void reset() {
            cpuNanos = 0;
            users = 0;
        }

        /** The process's CPU time so far, in nanoseconds. */
        long now() {
            return OS.getProcessCpuTime();
        }

        /** Adds an invocation that began at {@code start} (a {@link #now()}) and moved {@code n} users. */
        long add(long start, long n) {
            cpuNanos += now() - start;
            users += n;
            return n;
        }
    }

    /** The demo's server over the users, and one channel to it, for the whole fork. */
    @State(Scope.Benchmark)
    public static class Server {
        UserStreamServer server;

        @Setup(Level.Trial)
        public void start(EndToEndBenchmark b) {
            server = UserStreamServer.start(b.users);
        }

        @TearDown(Level.Trial)
        public void stop() {
            server.close();
        }
    }

    /**
     * The demo's table in a SQLite file of the fork's own: one connection that writes (the sink's, or the loop's),
     * one that empties and counts between invocations.
     */
    @State(Scope.Benchmark)
    public static class Table {
        Path dir;
        UserTable writer;
        UserTable observer;

        @Setup(Level.Trial)
        public void open() throws SQLException {
            dir = UserTable.newDirectory();
            writer = UserTable.open(dir);
            writer.recreate();
            observer = UserTable.open(dir);
        }

        @Setup(Level.Invocation)
        public void empty() throws SQLException {
            observer.clear();
            observer.count().expectExactlyOnce("before the invocation", 0, 0);
        }

        @TearDown(Level.Invocation)
        public void check(EndToEndBenchmark b) throws SQLException {
            observer.count().expectExactlyOnce("after the invocation", USERS, b.scoreSum);
        }

        @TearDown(Level.Trial)
        public void close() throws SQLException {
            try (UserTable w = writer;
                    UserTable o = observer) {
                // both closed, the observer first, whichever close fails
            } finally {
                AuditStore.deleteDirectory(dir);
            }
        }
    }

    /** Part 1: the gRPC source into a counting sink. */
    @Benchmark
    @OperationsPerInvocation(USERS)
    public long stream(Server s, CpuTime cpu) throws InterruptedException {
        long start = cpu.now();
        return cpu.add(start, DemoJob.stream(s.server.channel(), USERS));
    }

    /** Part 2: {@code mapConcurrent(64, lookUp)} from an in-memory source into a counting sink. */
    @Benchmark
    @OperationsPerInvocation(USERS)
    public long enrich(CpuTime cpu) throws InterruptedException {
        long start = cpu.now();
        return cpu.add(start, DemoJob.enrich(userList, scoreSum));
    }

    /** Part 3: the batches inserted by one thread in a plain loop. */
    @Benchmark
    @OperationsPerInvocation(USERS)
    public long insert(Table t, CpuTime cpu) throws SQLException {
        long start = cpu.now();
        return cpu.add(start, DemoJob.insert(t.writer, batches));
    }

    /** The whole job. */
    @Benchmark
    @OperationsPerInvocation(USERS)
    public long job(Server s, Table t, CpuTime cpu) throws InterruptedException {
        long start = cpu.now();
        return cpu.add(start, DemoJob.job(s.server.channel(), t.writer, USERS));
    }
}
