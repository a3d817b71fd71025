package dev.sluice.pipeline.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.AuditWriter;
import dev.sluice.pipeline.proto.workflow.User;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Every workload of every benchmark, on small inputs and every peer: each one delivers and checks its result, so a
 * peer wired wrongly fails here, in the build, rather than in a benchmark run nobody watches.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WorkloadsTest {

    private static final Long[] ITEMS = Items.boxed(20_000);

    @ParameterizedTest
    @EnumSource(LinkKind.class)
    void oneToOneDeliversEveryItemOnVirtualThroughASmallLink(LinkKind kind) throws InterruptedException {
        assertThat(HandOff.oneToOne(kind.create(16, 1, 1), ThreadKind.VIRTUAL, ITEMS))
                .isEqualTo(Items.sumOfRange(0, ITEMS.length));
    }

    @ParameterizedTest
    @EnumSource(LinkKind.class)
    void oneToOneDeliversEveryItemOnPlatformThreads(LinkKind kind) throws InterruptedException {
        assertThat(HandOff.oneToOne(kind.create(1024, 1, 1), ThreadKind.PLATFORM, ITEMS))
                .isEqualTo(Items.sumOfRange(0, ITEMS.length));
    }

    @ParameterizedTest
    @EnumSource(value = LinkKind.class, names = "SLUICE_SPSC", mode = EnumSource.Mode.EXCLUDE)
    void manyToManyDeliversEveryItemOnce(LinkKind kind) throws InterruptedException {
        assertThat(HandOff.manyToMany(kind.create(64, 4, 4), ThreadKind.VIRTUAL, 4, 4, ITEMS))
                .isEqualTo(Items.sumOfRange(0, ITEMS.length));
    }

    @Test
    void theSingleProducerLinkRefusesSeveralProducers() {
        assertThatThrownBy(() -> LinkKind.SLUICE_SPSC.create(16, 4, 4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("one producer and one consumer");
    }

    @Test
    void theSpinningLimitDeliversEveryItem() throws InterruptedException {
        assertThat(HandOff.spinning(16, ITEMS)).isEqualTo(Items.sumOfRange(0, ITEMS.length));
    }

    @ParameterizedTest
    @EnumSource(
            value = LinkKind.class,
            names = {"SLUICE_SPSC", "SLUICE_MPMC", "ARRAY_BLOCKING_QUEUE", "JOX"})
    void aChainByHandDeliversEveryItem(LinkKind kind) throws InterruptedException {
        Long[] items = Items.boxed(500);
        assertThat(StageChain.byHand(kind, 20, 4, items)).isEqualTo(Items.sumOfRange(0, 500));
    }

    @Test
    void theSchedulerWorkloadsCountEveryYieldAndTurn() throws InterruptedException {
        assertThat(Switches.yields(3, 1_000)).isEqualTo(3_000);
        assertThat(Switches.pingPong(1_000)).isEqualTo(2_000);
        assertThatThrownBy(() -> Switches.yields(0, 10))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("threads and yields must be at least 1, got 0 and 10");
        assertThatThrownBy(() -> Switches.pingPong(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("rounds must be at least 1, got 0");
    }

    @Test
    void aChainAsAPipelineDeliversEveryItem() throws InterruptedException {
        Long[] items = Items.boxed(500);
        assertThat(StageChain.pipeline(20, 4, items)).isEqualTo(Items.sumOfRange(0, 500));
        assertThat(StageChain.hops(20)).isEqualTo(19);
    }

    @Test
    void everyThreeStageVariantComputesTheSameSum() throws InterruptedException {
        int n = 10_000;
        long expected = Items.sumOfRange(1, n);
        assertThat(ThreeStages.sluicePipeline(n)).isEqualTo(expected);
        assertThat(ThreeStages.byHand(LinkKind.ARRAY_BLOCKING_QUEUE, 256, n)).isEqualTo(expected);
        assertThat(ThreeStages.byHand(LinkKind.JOX, 256, n)).isEqualTo(expected);
        assertThat(ThreeStages.byHand(LinkKind.SLUICE_MPMC, 256, n)).isEqualTo(expected);
        assertThat(ThreeStages.sequentialStream(n)).isEqualTo(expected);
        Scheduler a = Schedulers.newSingle("test-source");
        Scheduler b = Schedulers.newSingle("test-map");
        Scheduler c = Schedulers.newSingle("test-sum");
        try {
            assertThat(ThreeStages.reactor(n, a, b, c)).isEqualTo(expected);
        } finally {
            a.dispose();
            b.dispose();
            c.dispose();
        }
    }

    @ParameterizedTest
    @EnumSource(Latency.Pacer.class)
    void bothPacedPipelinesRecordTheLatencyOfEveryItemNoLessThanItsTrip(Latency.Pacer pacer)
            throws InterruptedException {
        int n = 2_000;
        long interval = 20_000;
        Histogram sluice = new Histogram(3);
        Histogram reactor = new Histogram(3);
        Scheduler a = Schedulers.newSingle("test-source");
        Scheduler b = Schedulers.newSingle("test-map");
        Scheduler c = Schedulers.newSingle("test-sink");
        try {
            long t0 = System.nanoTime();
            assertThat(Latency.sluice(n, interval, pacer, sluice)).isEqualTo(n);
            assertThat(System.nanoTime() - t0)
                    .as("paced: the run lasts n intervals")
                    .isGreaterThan(n * interval);
            t0 = System.nanoTime();
            assertThat(Latency.reactor(n, interval, pacer, reactor, a, b, c)).isEqualTo(n);
            assertThat(System.nanoTime() - t0)
                    .as("paced: the run lasts n intervals")
                    .isGreaterThan(n * interval);
        } finally {
            a.dispose();
            b.dispose();
            c.dispose();
        }
        assertThat(sluice.getTotalCount()).isEqualTo(n);
        assertThat(reactor.getTotalCount()).isEqualTo(n);
        assertThat(sluice.getMinValue()).isPositive();
        assertThat(reactor.getMinValue()).isPositive();
        assertThatThrownBy(() -> Latency.sluice(10, 0, pacer, sluice))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("intervalNanos must be at least 1, got 0");
    }

    @Test
    void everyConcurrentMappingComputesTheSameSumAndTimesItsCalls() throws InterruptedException {
        Long[] items = Items.boxed(64);
        long expected = Items.sumOfRange(1, 64);
        Scheduler elastic = Schedulers.newBoundedElastic(16, Integer.MAX_VALUE, "test-elastic");
        try {
            BlockingCall call = new BlockingCall();
            assertThat(ConcurrentMapping.sluiceOrdered(items, 16, call)).isEqualTo(expected);
            assertThat(ConcurrentMapping.sluiceUnordered(items, 16, call)).isEqualTo(expected);
            assertThat(ConcurrentMapping.reactorFlatMap(items, 16, elastic, call))
                    .isEqualTo(expected);
            assertThat(ConcurrentMapping.reactorFlatMapSequential(items, 16, elastic, call))
                    .isEqualTo(expected);
            assertThat(call.calls()).isEqualTo(4 * 64);
            // Each call sleeps at least a millisecond, and that is what it records.
            assertThat(call.totalNanos()).isGreaterThanOrEqualTo(call.calls() * TimeUnit.MILLISECONDS.toNanos(1));
        } finally {
            elastic.dispose();
        }
    }

    @ParameterizedTest
    @EnumSource(ItemStreamServer.Transport.class)
    void everyGrpcClientReadsTheWholeStreamInOrder(ItemStreamServer.Transport transport) throws InterruptedException {
        // given a server holding 5,000 items
        try (ItemStreamServer server = ItemStreamServer.start(transport, 5_000)) {
            // when each client reads the stream, twice on the same channel (as the benchmark's invocations do)
            for (int call = 0; call < 2; call++) {
                // then each one delivers and checks all of them
                assertThat(GrpcStreams.sluiceSource(server.channel(), 5_000, 256))
                        .isEqualTo(5_000);
                assertThat(GrpcStreams.sluiceSource(server.channel(), 5_000, 8)).isEqualTo(5_000);
                assertThat(GrpcStreams.asyncStub(server.channel(), 5_000)).isEqualTo(5_000);
                assertThat(GrpcStreams.blockingStub(server.channel(), 5_000)).isEqualTo(5_000);
            }
        }
    }

    @Test
    void aGrpcStreamThatFailsFailsEveryClient() {
        // given a server that refuses streams longer than what it holds
        try (ItemStreamServer server = ItemStreamServer.start(ItemStreamServer.Transport.IN_PROCESS, 10)) {
            // then no client mistakes the failure for a (fast) result
            assertThatThrownBy(() -> GrpcStreams.sluiceSource(server.channel(), 11, 256))
                    .hasStackTraceContaining("INVALID_ARGUMENT");
            assertThatThrownBy(() -> GrpcStreams.asyncStub(server.channel(), 11))
                    .hasStackTraceContaining("INVALID_ARGUMENT");
            assertThatThrownBy(() -> GrpcStreams.blockingStub(server.channel(), 11))
                    .hasStackTraceContaining("INVALID_ARGUMENT");
        }
    }

    @ParameterizedTest
    @EnumSource(AuditStore.class)
    void bothWaysOfAuditingStoreEveryEventOnce(AuditStore store) throws Exception {
        // given two tables of the audit table's shape, and events made as the benchmark makes them
        Path dir = AuditStore.newDirectory();
        String writerTable = AuditStore.uniqueTable("bench_audit_test_writer");
        String singleTable = AuditStore.uniqueTable("bench_audit_test_single");
        AuditEvent[] events = AuditWrites.events(300);
        AuditEvent primer = AuditWrites.events(1)[0];
        try (Connection observer = store.connect(dir)) {
            store.createTable(dir, writerTable);
            store.createTable(dir, singleTable);
            try {
                // when they go through a started writer, and one insert at a time
                AuditWriter writer = AuditWrites.startedWriter(store.sink(dir, writerTable), primer, 2);
                long viaWriter = AuditWrites.throughWriter(writer, events, 1);
                AuditWrites.closeAndCheck(writer, 301);
                long viaInserts;
                try (Connection c = store.connect(dir);
                        PreparedStatement insert = c.prepareStatement(store.insertSql(singleTable))) {
                    viaInserts = AuditWrites.oneInsertPerEvent(store, insert, events);
                }

                // then each table holds every event once
                assertThat(viaWriter).isEqualTo(300);
                assertThat(AuditStore.count(observer, writerTable)).isEqualTo(301);
                assertThat(viaInserts).isEqualTo(300);
                assertThat(AuditStore.count(observer, singleTable)).isEqualTo(300);
                // and clearing empties a table for the next invocation
                store.clear(observer, singleTable);
                assertThat(AuditStore.count(observer, singleTable)).isZero();
            } finally {
                AuditStore.drop(observer, writerTable);
                AuditStore.drop(observer, singleTable);
            }
        } finally {
            AuditStore.deleteDirectory(dir);
        }
    }

    @ParameterizedTest
    @EnumSource(AuditStore.class)
    void theCeilingStoresTheRowsTheWriterStores(AuditStore store) throws Exception {
        // the ceiling moves the events from its staging table, twice
        storesTheWritersRows(store, "bench_audit_test_ceiling", (dir, table, events) -> {
            String staging = AuditStore.uniqueTable("bench_audit_test_staging");
            try (Connection c = store.connect(dir)) {
                AuditWrites.stage(store, c, staging, events);
                try (PreparedStatement ceiling = c.prepareStatement(store.ceilingSql(table, staging))) {
                    AuditWrites.serverCeiling(ceiling, 300);
                    long moved = AuditWrites.serverCeiling(ceiling, 300); // the conflict clause replaces every row
                    // and a staging table that holds other than the expected rows fails the run
                    assertThatThrownBy(() -> AuditWrites.serverCeiling(ceiling, 301))
                            .isInstanceOf(IllegalStateException.class)
                            .hasMessageContaining("expected 301, got 300");
                    return moved;
                } finally {
                    AuditStore.drop(c, staging);
                }
            }
        });
    }

    @ParameterizedTest
    @EnumSource(AuditStore.class)
    void theHandWrittenBatchesStoreTheRowsTheWriterStores(AuditStore store) throws Exception {
        // the loop writes the events in batches of 100, twice
        storesTheWritersRows(store, "bench_audit_test_hand", (dir, table, events) -> {
            try (Connection c = store.connect(dir)) {
                c.setAutoCommit(false);
                try (PreparedStatement insert = c.prepareStatement(store.batchInsertSql(table, 100))) {
                    AuditWrites.handWrittenBatches(store, insert, events, 100);
                    long written = AuditWrites.handWrittenBatches(store, insert, events, 100); // replaces every row
                    assertThatThrownBy(() -> AuditWrites.handWrittenBatches(store, insert, events, 7))
                            .isInstanceOf(IllegalArgumentException.class)
                            .hasMessageContaining("multiple of batch")
                            .hasMessageContaining("got 300 and 7");
                    return written;
                }
            }
        });
    }

    /** Writes 300 events into a table of the store's; returns how many rows it reports written. */
    @FunctionalInterface
    private interface TableWrite {
        long write(Path dir, String table, AuditEvent[] events) throws Exception;
    }

    /**
     * Writes the same 300 events through a started audit writer into one table and by {@code other} into a second
     * (named {@code prefix} and a random suffix), and checks that {@code other} reports 300 rows and that both tables
     * hold the same 300 rows, value for value, the JSON documents included.
     */
    private static void storesTheWritersRows(AuditStore store, String prefix, TableWrite other) throws Exception {
        Path dir = AuditStore.newDirectory();
        String writerTable = AuditStore.uniqueTable("bench_audit_test_writer");
        String otherTable = AuditStore.uniqueTable(prefix);
        AuditEvent[] events = AuditWrites.events(300);
        try (Connection observer = store.connect(dir)) {
            store.createTable(dir, writerTable);
            store.createTable(dir, otherTable);
            try {
                AuditWriter writer = AuditWrites.startedWriter(store.sink(dir, writerTable), events[0], 1);
                AuditWrites.throughWriter(writer, Arrays.copyOfRange(events, 1, events.length), 1);
                AuditWrites.closeAndCheck(writer, 300);
                long written = other.write(dir, otherTable, events);

                assertThat(written).isEqualTo(300);
                assertThat(AuditStore.count(observer, otherTable)).isEqualTo(300);
                assertThat(sameRows(observer, writerTable, otherTable)).isEqualTo(300);
            } finally {
                AuditStore.drop(observer, writerTable);
                AuditStore.drop(observer, otherTable);
            }
        } finally {
            AuditStore.deleteDirectory(dir);
        }
    }

    private static long sameRows(Connection c, String a, String b) throws SQLException {
        StringBuilder sql = new StringBuilder(
                "SELECT count(*) FROM \"" + a + "\" a JOIN \"" + b + "\" b ON a.event_id = b.event_id");
        for (String column : List.of(
                "event_type",
                "correlation_id",
                "method_name",
                "created_date",
                "success",
                "duration_ms",
                "item_count",
                "audit_data")) {
            sql.append(" AND a.").append(column).append(" = b.").append(column);
        }
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql.toString())) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void aWriterThatDidNotWriteEverythingFailsTheRun() throws Exception {
        // given a writer whose store takes nothing (no spill file: failed batches are dropped, counted)
        AuditWriter writer = AuditWriter.builder(events -> {
                    throw new IllegalStateException("store down");
                })
                .retry(0, java.time.Duration.ofMillis(1), java.time.Duration.ofMillis(1))
                .logEvents(false)
                .build();

        // then the workload's checks refuse the result
        assertThatThrownBy(() -> AuditWrites.throughWriter(writer, AuditWrites.events(3), 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("should have written 3 events");
        assertThatThrownBy(() -> AuditWrites.closeAndCheck(writer, 3))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("should have written 3 events");
    }

    @Test
    void theDemoJobAndEachOfItsPartsMoveEveryUserOnce() throws Exception {
        // given the demo's server over 2,000 users and the demo's table in a file of its own
        int n = 2_000;
        User[] users = DemoJob.users(n);
        Path dir = UserTable.newDirectory();
        try (UserStreamServer server = UserStreamServer.start(users);
                UserTable writer = UserTable.open(dir);
                UserTable observer = UserTable.open(dir)) {
            writer.recreate();
            // when each part and the whole job run twice, the table emptied before each run that writes
            for (int run = 0; run < 2; run++) {
                // then each one moves every user once
                assertThat(DemoJob.stream(server.channel(), n)).isEqualTo(n);
                assertThat(DemoJob.enrich(Arrays.asList(users), DemoJob.scoreSum(users)))
                        .isEqualTo(n);
                observer.clear();
                assertThat(DemoJob.insert(writer, DemoJob.enrichedBatches(users)))
                        .isEqualTo(n);
                assertThat(observer.count()).isEqualTo(new UserTable.Count(n, n, DemoJob.scoreSum(users)));
                observer.clear();
                assertThat(observer.count()).isEqualTo(new UserTable.Count(0, 0, 0));
                assertThat(DemoJob.job(server.channel(), writer, n)).isEqualTo(n);
                assertThat(observer.count()).isEqualTo(new UserTable.Count(n, n, DemoJob.scoreSum(users)));
            }
        } finally {
            AuditStore.deleteDirectory(dir);
        }
    }

    @Test
    void aTableThatDoesNotHoldEveryUserOnceFailsTheRun() {
        assertThatThrownBy(() -> new UserTable.Count(2_000, 1_999, 7).expectExactlyOnce("job", 2_000, 7))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("distinct users in demo_users: expected 2000, got 1999");
        assertThatThrownBy(() -> new UserTable.Count(1_999, 1_999, 7).expectExactlyOnce("job", 2_000, 7))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("rows in demo_users: expected 2000, got 1999");
        assertThatThrownBy(() -> new UserTable.Count(2_000, 2_000, 6).expectExactlyOnce("job", 2_000, 7))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("sum of scores in demo_users: expected 7, got 6");
    }

    @Test
    void theKafkaJobsTableCheckFailsOnAMissingEventOrAUserOutOfOrder() throws Exception {
        // events 0..5 of 3 users: user-0 has events 0 and 3 (seq 0 and 1), and so on
        List<UserEvents.Enriched> events = java.util.stream.IntStream.range(0, 6)
                .mapToObj(i -> new UserEvents.Enriched(UserEvents.Event.of(i, 3), "DE", "new"))
                .toList();
        try (UserEvents.Table table = UserEvents.Table.create()) {
            table.upsert(events);
            table.checkEveryEventOnce(6);

            table.clear();
            table.upsert(events.subList(0, 5));
            assertThatThrownBy(() -> table.checkEveryEventOnce(6))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("holds 5 rows");

            table.clear();
            table.upsert(List.of(events.get(3), events.get(1), events.get(2), events.get(0)));
            table.upsert(events.subList(4, 6));
            assertThatThrownBy(() -> table.checkEveryEventOnce(6))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("1 events were written before an earlier event of their user");
        }
    }

    @Test
    void aWrongResultFailsTheRun() {
        assertThatThrownBy(() -> Items.expect("sum", 10, 9))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("expected 10, got 9");
    }

    @Test
    void aFailingThreadFailsTheRunAndStopsTheOthers() {
        Link<Long> link = LinkKind.ARRAY_BLOCKING_QUEUE.create(4);
        assertThatThrownBy(() -> new Workers(ThreadKind.VIRTUAL)
                        .add("consumer", link::receive) // would wait forever
                        .add("producer", () -> {
                            throw new IllegalStateException("boom");
                        })
                        .runAll())
                .isInstanceOf(IllegalStateException.class)
                .hasRootCauseMessage("boom");
    }

    @Test
    void theFlavourInUseIsTheDefaultSluiceOne() throws ReflectiveOperationException {
        // The surefire JVM sets no sluice.channel.queues property.
        assertThat(QueueFlavourBenchmark.flavourInUse()).isEqualTo("sluice");
    }

    @Test
    void theContextPropagationRunSumsWithPropagationOnAndOff() throws InterruptedException {
        assertThat(ContextPropagationBenchmark.run(true, 1_000)).isEqualTo(ThreeStages.expectedSum(1_000));
        assertThat(ContextPropagationBenchmark.run(false, 1_000)).isEqualTo(ThreeStages.expectedSum(1_000));
    }
}
