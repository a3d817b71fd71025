package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(60)
class PipelineOperatorsTest {

    private static List<Long> range(long from, long to) {
        return LongStream.range(from, to).boxed().toList();
    }

    @Test
    void mapFilterPeekAndFlatMapKeepTheOrder() throws Exception {
        List<Long> peeked = new CopyOnWriteArrayList<>();
        PipelineResult<List<Long>> result = Pipeline.from(Source.range(0, 10_000))
                .map(x -> x * 2)
                .filter(x -> x % 3 != 0)
                .peek(peeked::add)
                .flatMap(x -> List.of(x, -x))
                .to(Sink.toList())
                .run();
        List<Long> expected = range(0, 10_000).stream()
                .map(x -> x * 2)
                .filter(x -> x % 3 != 0)
                .flatMap(x -> Stream.of(x, -x))
                .toList();
        assertThat(result.value()).isEqualTo(expected);
        assertThat(peeked).hasSize(expected.size() / 2);
        assertThat(result.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(result.stages())
                .extracting(StageStats::name)
                .containsExactly("source", "map", "filter", "peek", "flatMap", "toList");
        assertThat(result.summary().stage("flatMap").orElseThrow().itemsOut()).isEqualTo(expected.size());
    }

    @Test
    void flatMapOfALargeExpansionStreamsItThroughBoundedLinks() throws Exception {
        // One item expands to a million: the expansion is iterated lazily as downstream takes it.
        PipelineResult<Long> result = Pipeline.from(Source.of(1_000_000))
                .flatMap(n -> () -> LongStream.range(0, n).iterator())
                .buffer(8)
                .to(Sink.count())
                .run();
        assertThat(result.value()).isEqualTo(1_000_000L);
    }

    @Test
    void mapConcurrentKeepsInputOrderWhateverTheCallTimes() throws Exception {
        PipelineResult<List<Long>> result = Pipeline.from(Source.range(0, 2_000))
                .mapConcurrent(16, x -> {
                    if (ThreadLocalRandom.current().nextInt(10) == 0) {
                        Thread.sleep(ThreadLocalRandom.current().nextInt(3));
                    }
                    return x * 10;
                })
                .to(Sink.toList())
                .run();
        assertThat(result.value())
                .isEqualTo(range(0, 2_000).stream().map(x -> x * 10).toList());
    }

    @Test
    void mapConcurrentRunsUpToConcurrencyCallsAtOnceAndNoMore() throws Exception {
        for (boolean ordered : new boolean[] {true, false}) {
            AtomicInteger inCall = new AtomicInteger();
            AtomicInteger maxInCall = new AtomicInteger();
            CheckedFunction<Long, Long> call = x -> {
                int now = inCall.incrementAndGet();
                maxInCall.accumulateAndGet(now, Math::max);
                Thread.sleep(2);
                inCall.decrementAndGet();
                return x;
            };
            Pipeline<Long> p = Pipeline.from(Source.range(0, 400));
            Pipeline<Long> concurrent = ordered ? p.mapConcurrent(8, call) : p.mapConcurrentUnordered(8, call);
            PipelineResult<List<Long>> result = concurrent.to(Sink.toList()).run();
            assertThat(maxInCall.get()).as("ordered=%s", ordered).isEqualTo(8);
            assertThat(result.value()).containsExactlyInAnyOrderElementsOf(range(0, 400));
        }
    }

    @ParameterizedTest(name = "concurrency {0}")
    @ValueSource(ints = {2, 3, 16})
    void mapConcurrentBehindASlowOldestItemFillsItsWindowThenStopsTakingInput(int concurrency) throws Exception {
        // given: item 0 is stuck; every other call returns at once; the window is 2 × concurrency
        int window = 2 * concurrency;
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        // when
        PipelineHandle<List<Long>> handle = Pipeline.from(Source.range(0, 1_000))
                .mapConcurrent(concurrency, x -> {
                    started.incrementAndGet();
                    if (x == 0) {
                        release.await();
                    }
                    return x;
                })
                .to(Sink.toList())
                .start();
        // then: the calls behind item 0 go on until the window is full (the window, or the window and one cell
        // while the emitter holds a pair), and then no more input is taken while item 0 is stuck
        await().atMost(Duration.ofSeconds(10)).until(() -> started.get() >= window);
        await().during(Duration.ofMillis(300))
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(started.get()).isBetween(window, window + 1));
        // when item 0 is released, everything passes, in input order
        release.countDown();
        assertThat(handle.await().value()).isEqualTo(range(0, 1_000));
    }

    @Test
    void mapConcurrentUnorderedPassesFastResultsAheadOfSlowOnes() throws Exception {
        CountDownLatch slowMayFinish = new CountDownLatch(1);
        PipelineResult<List<Long>> result = Pipeline.from(Source.range(0, 50))
                .mapConcurrentUnordered(4, x -> {
                    if (x == 0) {
                        slowMayFinish.await();
                    }
                    return x;
                })
                .peek(x -> {
                    if (x == 49) {
                        slowMayFinish.countDown();
                    }
                })
                .to(Sink.toList())
                .run();
        // 0 finishes only once 49 has passed downstream: a result that completed later went out earlier. Nothing
        // more is promised about the order (a worker may hold a finished result in its group a moment longer, so
        // another fast result can arrive after 0).
        assertThat(result.value()).containsExactlyInAnyOrderElementsOf(range(0, 50));
        assertThat(result.value().indexOf(49L)).isLessThan(result.value().indexOf(0L));
    }

    @Test
    void batchGroupsBySizeAndFlushesTheRestAtTheEnd() throws Exception {
        PipelineResult<List<List<Long>>> result = Pipeline.from(Source.range(0, 10))
                .batch(4, Duration.ofMinutes(1))
                .to(Sink.toList())
                .run();
        assertThat(result.value()).containsExactly(range(0, 4), range(4, 8), range(8, 10));
    }

    @Test
    void countersCountTheItemsInBatchesNotTheLists() throws Exception {
        PipelineResult<Long> result = Pipeline.from(Source.range(0, 10))
                .batch(3, Duration.ofMinutes(1))
                .to(Sink.count())
                .run();
        assertThat(result.value()).as("the sink saw 4 lists").isEqualTo(4);
        assertThat(result.summary().stage("batch").orElseThrow().itemsOut()).isEqualTo(10);
        assertThat(result.summary().stage("count").orElseThrow().itemsIn()).isEqualTo(10);
        assertThat(result.itemCount()).isEqualTo(10);
    }

    @Test
    void batchPassesAPartialBatchOnOnceMaxWaitHasPassedSinceItsFirstItem() throws Exception {
        // given a source that sends 3 items, then waits until the partial batch has arrived
        CountDownLatch firstBatchSeen = new CountDownLatch(1);
        List<Long> arrivalMillis = new CopyOnWriteArrayList<>();
        long start = System.nanoTime();
        Source<Long> source = emitter -> {
            emitter.emit(1L);
            emitter.emit(2L);
            emitter.emit(3L);
            firstBatchSeen.await();
            emitter.emit(4L);
        };
        // when
        PipelineResult<List<List<Long>>> result = Pipeline.from(source)
                .batch(100, Duration.ofMillis(80))
                .peek(b -> {
                    arrivalMillis.add((System.nanoTime() - start) / 1_000_000);
                    firstBatchSeen.countDown();
                })
                .to(Sink.toList())
                .run();
        // then
        assertThat(result.value()).containsExactly(List.of(1L, 2L, 3L), List.of(4L));
        assertThat(arrivalMillis.get(0)).as("not before maxWait").isGreaterThanOrEqualTo(80);
        assertThat(arrivalMillis.get(0)).as("not long after it").isLessThan(5_000);
    }

    @Test
    void batchWaitsNoLongerThanMaxWaitWhileItemsTrickleIn() throws Exception {
        // A batch opened by a first item is sent within maxWait even though items keep coming more slowly.
        Channel<Long> in = Channel.bounded(16);
        List<List<Long>> batches = new CopyOnWriteArrayList<>();
        PipelineHandle<Long> run = Pipeline.from(Source.fromChannel(in))
                .batch(1_000, Duration.ofMillis(50))
                .to(Sink.forEach(batches::add))
                .start();
        in.send(1L);
        await().atMost(Duration.ofSeconds(5)).until(() -> batches.size() == 1);
        in.send(2L);
        in.send(3L);
        await().atMost(Duration.ofSeconds(5)).until(() -> batches.size() == 2);
        in.close();
        assertThat(run.await().value()).isEqualTo(2L);
        assertThat(batches).containsExactly(List.of(1L), List.of(2L, 3L));
    }

    @Test
    void takeEndsAnEndlessSourceAndTheStagesBeforeIt() throws Exception {
        AtomicLong generated = new AtomicLong();
        PipelineResult<List<Long>> result = Pipeline.from(Source.generate(generated::incrementAndGet))
                .map(x -> x * 2)
                .take(5)
                .map(x -> x + 1)
                .to(Sink.toList())
                .run();
        assertThat(result.value()).containsExactly(3L, 5L, 7L, 9L, 11L);
        assertThat(result.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(result.summary().stage("take").orElseThrow().itemsOut()).isEqualTo(5);
    }

    @Test
    void takeZeroCompletesAtOnceWithNothing() throws Exception {
        PipelineResult<Long> result =
                Pipeline.from(Source.generate(() -> 1)).take(0).to(Sink.count()).run();
        assertThat(result.value()).isZero();
    }

    @Test
    void takeMoreThanThereIsPassesEverything() throws Exception {
        PipelineResult<Long> result =
                Pipeline.from(Source.range(0, 10)).take(100).to(Sink.count()).run();
        assertThat(result.value()).isEqualTo(10);
    }

    @Test
    void bufferWithDropPoliciesCountsTheDroppedItemsOnTheProducingStage() throws Exception {
        // A fast source into a link of 4 that drops its oldest, before a stage that takes a millisecond per item.
        List<Long> kept = new CopyOnWriteArrayList<>();
        PipelineResult<Long> result = Pipeline.from(Source.range(0, 1_000))
                .buffer(4, Overflow.DROP_OLDEST)
                .map(x -> {
                    Thread.sleep(1); // a simulated slow stage
                    return x;
                })
                .to(Sink.forEach(kept::add))
                .run(Duration.ofSeconds(30));
        StageStats source = result.summary().stage("source").orElseThrow();
        assertThat(source.dropped()).isPositive();
        assertThat(result.value() + source.dropped()).isEqualTo(1_000);
        assertThat(kept).isSorted().endsWith(999L);
    }

    @Test
    void stageNamesCanBeSetAndAppearInTheSummary() throws Exception {
        PipelineResult<Long> result = Pipeline.from(Source.range(0, 3))
                .named("numbers")
                .map(x -> x)
                .named("identity")
                .to(Sink.<Long>count().named("counter"))
                .run();
        assertThat(result.stages()).extracting(StageStats::name).containsExactly("numbers", "identity", "counter");
    }

    @Test
    void sourcesOfEveryKindDeliverTheirItems() throws Exception {
        List<Long> items = range(0, 1_000);
        assertThat(collect(Source.from(items))).isEqualTo(items);
        assertThat(collect(Source.from((Iterable<Long>) () -> items.iterator())))
                .isEqualTo(items);
        assertThat(collect(Source.from(items.iterator()))).isEqualTo(items);
        assertThat(collect(Source.from(items.stream()))).isEqualTo(items);
        assertThat(collect(Source.of(1L, 2L, 3L))).containsExactly(1L, 2L, 3L);
        assertThat(collect(Source.range(5, 8))).containsExactly(5L, 6L, 7L);
        assertThat(collect(emitter -> {
                    for (long x : items) {
                        emitter.emit(x);
                    }
                }))
                .isEqualTo(items);
        Channel<Long> channel = Channel.bounded(8);
        Thread.ofVirtual().start(() -> {
            try {
                channel.sendAll(items);
                channel.close();
            } catch (InterruptedException e) {
                channel.fail(e);
            }
        });
        assertThat(collect(Source.fromChannel(channel))).isEqualTo(items);
    }

    @Test
    void aSourceOverAnIteratorCanRunOnlyOnce() throws Exception {
        RunnablePipeline<Long> p =
                Pipeline.from(Source.from(List.of(1, 2).iterator())).to(Sink.count());
        assertThat(p.run().value()).isEqualTo(2);
        org.assertj.core.api.Assertions.assertThatThrownBy(p::run)
                .isInstanceOf(PipelineFailedException.class)
                .cause()
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("only once");
    }

    @Test
    void aDescriptionRunsManyTimesIndependently() throws Exception {
        RunnablePipeline<Long> p =
                Pipeline.from(Source.range(0, 100)).map(x -> x + 1).to(Sink.reduce(0L, Long::sum));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            PipelineResult<Long> r = p.run();
            assertThat(r.value()).isEqualTo(5050L);
            ids.add(r.correlationId());
        }
        assertThat(ids).doesNotHaveDuplicates();
    }

    @Test
    void sinksOfEveryKindProduceTheirValue() throws Exception {
        Pipeline<Long> numbers = Pipeline.from(Source.range(1, 101));
        assertThat(numbers.to(Sink.count()).run().value()).isEqualTo(100);
        assertThat(numbers.to(Sink.reduce(0L, Long::sum)).run().value()).isEqualTo(5050);
        assertThat(numbers.to(Sink.collect(Collectors.summingLong(x -> x)))
                        .run()
                        .value())
                .isEqualTo(5050);
        List<Long> seen = Collections.synchronizedList(new ArrayList<>());
        assertThat(numbers.to(Sink.forEach(seen::add)).run().value()).isEqualTo(100);
        assertThat(seen).isEqualTo(range(1, 101));
        List<Integer> groupSizes = new CopyOnWriteArrayList<>();
        List<Long> grouped = new CopyOnWriteArrayList<>();
        assertThat(numbers.to(Sink.forEachBatch(16, (List<Long> g) -> {
                            groupSizes.add(g.size());
                            grouped.addAll(g);
                        }))
                        .run()
                        .value())
                .isEqualTo(100);
        assertThat(grouped).isEqualTo(range(1, 101));
        assertThat(groupSizes).allSatisfy(n -> assertThat(n).isBetween(1, 16));
    }

    @Test
    void aChannelSinkIsClosedWhenTheRunCompletes() throws Exception {
        Channel<Long> out = Channel.bounded(4);
        PipelineHandle<Long> run =
                Pipeline.from(Source.range(0, 100)).to(Sink.toChannel(out)).start();
        List<Long> got = new ArrayList<>();
        for (long x : out) {
            got.add(x);
        }
        assertThat(got).isEqualTo(range(0, 100));
        assertThat(run.await().value()).isEqualTo(100);
    }

    @Test
    void aChannelSinkIsFailedWithTheCauseWhenTheRunFails() throws Exception {
        Channel<Long> out = Channel.bounded(4);
        IllegalStateException boom = new IllegalStateException("boom");
        PipelineHandle<Long> run = Pipeline.from(Source.range(0, 100))
                .map(x -> {
                    if (x == 50) {
                        throw boom;
                    }
                    return x;
                })
                .to(Sink.toChannel(out))
                .start();
        List<Long> got = new ArrayList<>();
        Throwable failure = null;
        try {
            for (long x : out) {
                got.add(x);
            }
        } catch (ChannelFailedException e) {
            failure = e.getCause();
        }
        assertThat(failure).isSameAs(boom);
        assertThat(got).isEqualTo(range(0, got.size()));
        org.assertj.core.api.Assertions.assertThatThrownBy(run::await).isInstanceOf(PipelineFailedException.class);
    }

    @Test
    void aRunCancelledBeforeItsStagesStartedStillFailsTheChannelAndTellsTheSubscriber() throws Exception {
        // given runs whose listener holds the start until the test has cancelled them: no stage thread exists yet
        Channel<Long> out = Channel.bounded(4);
        FlowInteropTest.Probe subscriber = new FlowInteropTest.Probe();
        for (Sink<Long, Long> sink : List.of(Sink.toChannel(out), Sink.toSubscriber(subscriber))) {
            CountDownLatch cancelled = new CountDownLatch(1);
            PipelineListener holdsTheStart = new PipelineListener() {
                @Override
                public void onStart(PipelineSnapshot start) {
                    try {
                        cancelled.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            PipelineHandle<Long> run = Pipeline.from(Source.range(0, 10))
                    .listener(holdsTheStart)
                    .map(x -> x)
                    .to(sink)
                    .start();

            // when it is cancelled before its stages are forked
            run.cancel();
            cancelled.countDown();

            // then the run ends cancelled
            org.assertj.core.api.Assertions.assertThatThrownBy(run::await)
                    .isInstanceOf(PipelineCancelledException.class);
        }

        // and the channel's receivers learn it (they would wait for good), and the subscriber has its onError
        org.assertj.core.api.Assertions.assertThatThrownBy(out::receive)
                .isInstanceOf(ChannelFailedException.class)
                .hasCauseInstanceOf(java.util.concurrent.CancellationException.class);
        assertThat(subscriber.subscribed.getCount()).as("onSubscribe came").isZero();
        assertThat(subscriber.signals).containsExactly("onError:CancellationException");
    }

    private static List<Long> collect(Source<Long> source) throws InterruptedException {
        return Pipeline.from(source).to(Sink.toList()).run().value();
    }
}
