package dev.sluice.pipeline.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
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
    @EnumSource(value = LinkKind.class, names = {"SLUICE_SPSC", "SLUICE_MPMC", "ARRAY_BLOCKING_QUEUE", "JOX"})
    void aChainByHandDeliversEveryItem(LinkKind kind) throws InterruptedException {
        Long[] items = Items.boxed(500);
        assertThat(StageChain.byHand(kind, 20, 4, items)).isEqualTo(Items.sumOfRange(0, 500));
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

    @Test
    void everyConcurrentMappingComputesTheSameSumAndTimesItsCalls() throws InterruptedException {
        Long[] items = Items.boxed(64);
        long expected = Items.sumOfRange(1, 64);
        Scheduler elastic = Schedulers.newBoundedElastic(16, Integer.MAX_VALUE, "test-elastic");
        try {
            BlockingCall call = new BlockingCall();
            assertThat(ConcurrentMapping.sluiceOrdered(items, 16, call)).isEqualTo(expected);
            assertThat(ConcurrentMapping.sluiceUnordered(items, 16, call)).isEqualTo(expected);
            assertThat(ConcurrentMapping.reactorFlatMap(items, 16, elastic, call)).isEqualTo(expected);
            assertThat(ConcurrentMapping.reactorFlatMapSequential(items, 16, elastic, call)).isEqualTo(expected);
            assertThat(call.calls()).isEqualTo(4 * 64);
            // Each call sleeps at least a millisecond, and that is what it records.
            assertThat(call.totalNanos()).isGreaterThanOrEqualTo(call.calls() * TimeUnit.MILLISECONDS.toNanos(1));
        } finally {
            elastic.dispose();
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
    void theFlavourInUseIsTheDefaultAtomicOne() throws ReflectiveOperationException {
        // The surefire JVM sets no sluice.channel.queues property.
        assertThat(QueueFlavourBenchmark.flavourInUse()).isEqualTo("atomic");
    }
}
