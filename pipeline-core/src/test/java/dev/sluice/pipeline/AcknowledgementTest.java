package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What a source that emits with acknowledgements is told, operator by operator. */
@Timeout(60)
class AcknowledgementTest {

    @Test
    void theSinkHandlingAnItemAcknowledgesItAsProcessed() throws Exception {
        // given
        AckRecorder acks = new AckRecorder(1000);
        List<Long> seen = new CopyOnWriteArrayList<>();
        // when
        Pipeline.from(acks.source()).to(Sink.forEach(seen::add)).run();
        // then
        acks.assertEachToldOnce();
        assertThat(acks.counts()).isEqualTo(Map.of(Disposition.PROCESSED, 1000));
        assertThat(seen).hasSize(1000).startsWith(0L, 1L, 2L);
    }

    @Test
    void anItemIsAcknowledgedOnlyAfterTheSinkReturnsFromIt() throws Exception {
        // given
        AckRecorder acks = new AckRecorder(50);
        List<String> wrong = new CopyOnWriteArrayList<>();
        // when
        Pipeline.from(acks.source())
                .map(x -> x + 1)
                .to(Sink.forEach(x -> {
                    int item = (int) (x - 1);
                    if (acks.of(item) != null) {
                        wrong.add("item " + item + " acknowledged before the sink took it");
                    }
                }))
                .run();
        // then
        assertThat(wrong).isEmpty();
        acks.assertEachToldOnce();
    }

    @Test
    void mapAndPeekPassTheAcknowledgementOnAndFunctionsSeePlainValues() throws Exception {
        // given
        AckRecorder acks = new AckRecorder(100);
        List<Object> seenByFunctions = new CopyOnWriteArrayList<>();
        // when
        List<String> out = Pipeline.from(acks.source())
                .peek(seenByFunctions::add)
                .map(x -> "v" + x)
                .to(Sink.toList())
                .run()
                .value();
        // then
        assertThat(seenByFunctions).allSatisfy(v -> assertThat(v).isInstanceOf(Long.class));
        assertThat(out).hasSize(100).startsWith("v0", "v1");
        acks.assertEachToldOnce();
        assertThat(acks.counts()).isEqualTo(Map.of(Disposition.PROCESSED, 100));
    }

    @Test
    void aFilteredItemIsAcknowledgedAsFiltered() throws Exception {
        AckRecorder acks = new AckRecorder(100);
        Pipeline.from(acks.source()).filter(x -> x % 2 == 0).to(Sink.count()).run();
        acks.assertEachToldOnce();
        assertThat(acks.of(1)).isEqualTo(Disposition.FILTERED);
        assertThat(acks.of(2)).isEqualTo(Disposition.PROCESSED);
        assertThat(acks.counts()).isEqualTo(Map.of(Disposition.FILTERED, 50, Disposition.PROCESSED, 50));
    }

    @Test
    void errorPoliciesAcknowledgeSkippedAndDeadLetteredItems() throws Exception {
        // given
        AckRecorder skipped = new AckRecorder(10);
        AckRecorder deadLettered = new AckRecorder(10);
        List<Object> letters = new CopyOnWriteArrayList<>();
        // when
        Pipeline.from(skipped.source())
                .map(x -> {
                    if (x == 3) {
                        throw new IllegalStateException("bad 3");
                    }
                    return x;
                })
                .onError(ErrorPolicy.skip())
                .to(Sink.count())
                .run();
        Pipeline.from(deadLettered.source())
                .to(Sink.<Long>forEach(x -> {
                            if (x == 4) {
                                throw new IllegalStateException("bad 4");
                            }
                        })
                        .onError(ErrorPolicy.deadLetter(d -> letters.add(d.item()))))
                .run();
        // then
        skipped.assertEachToldOnce();
        assertThat(skipped.of(3)).isEqualTo(Disposition.SKIPPED);
        assertThat(skipped.counts()).containsEntry(Disposition.PROCESSED, 9);
        deadLettered.assertEachToldOnce();
        assertThat(deadLettered.of(4)).isEqualTo(Disposition.DEAD_LETTERED);
        assertThat(letters).containsExactly(4L); // the plain value, not an envelope
    }

    @Test
    void aFailureAcknowledgesTheFailingItemAsFailedAndTheRestAsReleasedBeforeRunReturns() {
        // given
        int n = 10_000;
        AckRecorder acks = new AckRecorder(n);
        // when
        assertThatThrownBy(() -> Pipeline.from(acks.source())
                        .map(x -> {
                            if (x == 500) {
                                throw new IllegalStateException("boom");
                            }
                            return x;
                        })
                        .to(Sink.count())
                        .run())
                .isInstanceOf(PipelineFailedException.class);
        // then: nothing is left untold once run() has thrown
        acks.assertEachToldOnce();
        assertThat(acks.of(500)).isEqualTo(Disposition.FAILED);
        for (int i = 0; i < 500; i++) { // before the failure: the sink may or may not have got to them
            assertThat(acks.of(i)).as("item %d", i).isIn(Disposition.PROCESSED, Disposition.RELEASED);
        }
        for (int i = 501; i < n; i++) { // after it: never processed; told if the source got to emit them
            assertThat(acks.of(i)).as("item %d", i).isIn(Disposition.RELEASED, null);
        }
    }

    @Test
    void aFlatMappedItemIsDoneWhenAllItsChildrenAre() throws Exception {
        // given: item i has i % 4 children; each child is handled by the sink
        AckRecorder acks = new AckRecorder(100);
        List<String> wrong = new CopyOnWriteArrayList<>();
        AtomicInteger childrenSeen = new AtomicInteger();
        // when
        Pipeline.from(acks.source())
                .flatMap(x -> {
                    List<long[]> children = new ArrayList<>();
                    for (int c = 0; c < x % 4; c++) {
                        children.add(new long[] {x, c});
                    }
                    return children;
                })
                .to(Sink.forEach(child -> {
                    childrenSeen.incrementAndGet();
                    if (acks.of((int) child[0]) != null) {
                        wrong.add("item " + child[0] + " acknowledged before its child " + child[1]);
                    }
                }))
                .run();
        // then
        assertThat(wrong).isEmpty();
        acks.assertEachToldOnce();
        assertThat(acks.of(0)).isEqualTo(Disposition.FILTERED); // no children
        assertThat(acks.of(3)).isEqualTo(Disposition.PROCESSED);
        assertThat(acks.counts()).isEqualTo(Map.of(Disposition.FILTERED, 25, Disposition.PROCESSED, 75));
    }

    @Test
    void aChildsFilterDoesNotHideItsSiblingsProcessingButItsDeadLetterDoes() throws Exception {
        // given: each item has two children; the child "drop" is filtered, the child "bad" dead-lettered
        AckRecorder acks = new AckRecorder(3);
        // when
        Pipeline.from(acks.source())
                .flatMap(x -> x == 0 ? List.of("ok", "drop") : x == 1 ? List.of("ok", "bad") : List.of("ok"))
                .filter(s -> !s.equals("drop"))
                .map(s -> {
                    if (s.equals("bad")) {
                        throw new IllegalArgumentException(s);
                    }
                    return s;
                })
                .onError(ErrorPolicy.deadLetter(d -> {}))
                .to(Sink.count())
                .run();
        // then
        acks.assertEachToldOnce();
        assertThat(acks.of(0)).isEqualTo(Disposition.PROCESSED);
        assertThat(acks.of(1)).isEqualTo(Disposition.DEAD_LETTERED);
        assertThat(acks.of(2)).isEqualTo(Disposition.PROCESSED);
    }

    @Test
    void aBatchsItemsAreAcknowledgedWhenTheSinkReturnsFromTheBatch() throws Exception {
        // given
        AckRecorder acks = new AckRecorder(95);
        List<String> wrong = new CopyOnWriteArrayList<>();
        List<Integer> sizes = new CopyOnWriteArrayList<>();
        // when
        Pipeline.from(acks.source())
                .batch(10, Duration.ofSeconds(5))
                .to(Sink.forEach(batch -> {
                    sizes.add(batch.size());
                    for (Long x : batch) {
                        if (acks.of(x.intValue()) != null) {
                            wrong.add("item " + x + " acknowledged before the sink returned from its batch");
                        }
                    }
                }))
                .run();
        // then
        assertThat(wrong).isEmpty();
        assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(95);
        acks.assertEachToldOnce();
        assertThat(acks.counts()).isEqualTo(Map.of(Disposition.PROCESSED, 95));
    }

    @Test
    void aGroupTakingSinkAcknowledgesTheGroupAfterItReturns() throws Exception {
        AckRecorder acks = new AckRecorder(500);
        List<String> wrong = new CopyOnWriteArrayList<>();
        Pipeline.from(acks.source())
                .to(Sink.forEachBatch(32, group -> {
                    for (Long x : group) {
                        if (acks.of(x.intValue()) != null) {
                            wrong.add("item " + x);
                        }
                    }
                }))
                .run();
        assertThat(wrong).isEmpty();
        acks.assertEachToldOnce();
        assertThat(acks.counts()).isEqualTo(Map.of(Disposition.PROCESSED, 500));
    }

    @Test
    void itemsBeyondATakesLimitAreReleased() throws Exception {
        // given
        AckRecorder acks = new AckRecorder(10_000);
        // when
        long taken =
                Pipeline.from(acks.source()).take(100).to(Sink.count()).run().value();
        // then
        assertThat(taken).isEqualTo(100);
        acks.assertEachToldOnce(); // also those the source never got to emit are told nothing: it never tracked them
        for (int i = 0; i < 100; i++) {
            assertThat(acks.of(i)).isEqualTo(Disposition.PROCESSED);
        }
        assertThat(acks.counts()).doesNotContainKeys(Disposition.FAILED, Disposition.FILTERED);
    }

    @Test
    void anItemWhoseCallACancelCutsShortIsReleasedUnderEveryErrorPolicy() throws Exception {
        for (ErrorPolicy policy : List.of(
                ErrorPolicy.fail(), ErrorPolicy.skip(), ErrorPolicy.deadLetter(d -> fail("dead letter " + d)))) {
            // given: a call that reports the interrupt its own way, as a blocking gRPC stub or NIO channel does
            AckRecorder acks = new AckRecorder(1);
            CountDownLatch inCall = new CountDownLatch(1);
            PipelineHandle<Long> handle = Pipeline.from(acks.source())
                    .map(x -> {
                        inCall.countDown();
                        try {
                            new CountDownLatch(1).await();
                        } catch (InterruptedException e) {
                            throw new IllegalStateException("the call was cut short", e);
                        }
                        return x;
                    })
                    .onError(policy)
                    .to(Sink.count())
                    .start();
            assertThat(inCall.await(10, TimeUnit.SECONDS)).isTrue();
            // when
            handle.cancel();
            // then
            assertThatThrownBy(handle::await).isInstanceOf(PipelineCancelledException.class);
            acks.assertEachToldOnce();
            assertThat(acks.of(0))
                    .as("under %s", policy.getClass().getSimpleName())
                    .isEqualTo(Disposition.RELEASED);
            StageStats map = handle.snapshot().stages().get(1);
            assertThat(map.skipped() + map.failed())
                    .as("under %s", policy.getClass().getSimpleName())
                    .isZero();
        }
    }

    @Test
    void anItemCutShortBecauseATakeFinishedIsReleasedNotSkipped() throws Exception {
        // given: item 1's call is under way when item 0 reaches take(1), which no longer needs the stages before it
        AckRecorder acks = new AckRecorder(2);
        CountDownLatch oneInCall = new CountDownLatch(1);
        // when
        long taken = Pipeline.from(acks.source())
                .mapConcurrentUnordered(2, x -> {
                    if (x == 0) {
                        oneInCall.await();
                        return x;
                    }
                    oneInCall.countDown();
                    try {
                        new CountDownLatch(1).await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException("the call was cut short", e);
                    }
                    return x;
                })
                .onError(ErrorPolicy.skip())
                .take(1)
                .to(Sink.count())
                .run()
                .value();
        // then
        assertThat(taken).isEqualTo(1);
        acks.assertEachToldOnce();
        assertThat(acks.of(0)).isEqualTo(Disposition.PROCESSED);
        assertThat(acks.of(1)).isEqualTo(Disposition.RELEASED);
    }

    /** A writer that keeps items in a buffer and makes them durable three at a time, and the rest at completion. */
    private static final class BufferingWriter implements Sink.Writer<Long, Long> {
        final List<Long> durable = new CopyOnWriteArrayList<>();
        private final List<Long> buffer = new ArrayList<>();
        private final boolean failOnComplete;

        BufferingWriter(boolean failOnComplete) {
            this.failOnComplete = failOnComplete;
        }

        @Override
        public void write(Long item) {
            buffer.add(item);
            if (buffer.size() == 3) {
                durable.addAll(buffer);
                buffer.clear();
            }
        }

        @Override
        public int unconfirmed() {
            return buffer.size();
        }

        @Override
        public Long complete() {
            if (failOnComplete) {
                throw new IllegalStateException("the last flush failed");
            }
            durable.addAll(buffer);
            buffer.clear();
            return (long) durable.size();
        }
    }

    @Test
    void aWritersItemsAreDoneOnlyOnceItNoLongerCountsThemUnconfirmed() throws Exception {
        // given: 8 items into a writer that makes them durable three at a time, and fails its last flush
        AckRecorder acks = new AckRecorder(8);
        BufferingWriter writer = new BufferingWriter(true);
        // when
        assertThatThrownBy(() -> Pipeline.from(acks.source())
                        .to(Sink.of(context -> writer))
                        .run())
                .isInstanceOf(PipelineFailedException.class);
        // then: the six made durable are processed; the two still buffered are released, not claimed
        acks.assertEachToldOnce();
        assertThat(writer.durable).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
        for (int i = 0; i < 6; i++) {
            assertThat(acks.of(i)).as("item %d", i).isEqualTo(Disposition.PROCESSED);
        }
        assertThat(acks.of(6)).isEqualTo(Disposition.RELEASED);
        assertThat(acks.of(7)).isEqualTo(Disposition.RELEASED);
    }

    @Test
    void aWritersUnconfirmedItemsAreDoneWhenItCompletes() throws Exception {
        // given
        AckRecorder acks = new AckRecorder(8);
        PositionTracker tracker = new PositionTracker(0);
        Source<Long> tracked = emitter -> {
            for (int i = 0; i < 8; i++) {
                Acknowledgement toRecorder = acks.ack(i);
                Acknowledgement toTracker = tracker.track(i);
                emitter.emit((long) i, d -> {
                    toTracker.done(d);
                    toRecorder.done(d);
                });
            }
        };
        // when
        long written = Pipeline.from(tracked)
                .to(Sink.of(context -> new BufferingWriter(false)))
                .run()
                .value();
        // then
        assertThat(written).isEqualTo(8);
        acks.assertEachToldOnce();
        assertThat(acks.counts()).isEqualTo(Map.of(Disposition.PROCESSED, 8));
        assertThat(tracker.committable()).isEqualTo(8);
    }

    @Test
    void aTrackedSourceThatRefusesAPositionReleasesTheItemsOwnAcknowledgement() {
        // given: a source whose second item repeats the first one's position
        List<Disposition> told = new CopyOnWriteArrayList<>();
        Source<Long> repeats = emitter -> {
            emitter.emit(5L, told::add);
            emitter.emit(5L, told::add);
        };
        // when
        assertThatThrownBy(() -> Pipeline.from(Source.tracked(repeats, x -> x, new PositionTracker(5)))
                        .to(Sink.count())
                        .run())
                .isInstanceOf(PipelineFailedException.class)
                .hasRootCauseInstanceOf(IllegalArgumentException.class);
        // then: each emit's acknowledgement is told once, the refused one released
        assertThat(told).hasSize(2).contains(Disposition.RELEASED);
    }

    @Test
    void anItemABufferDropsIsAcknowledgedAsDropped() throws Exception {
        // given: a sink held back while the source overfills a one-item DROP_NEWEST buffer
        AckRecorder acks = new AckRecorder(50);
        CountDownLatch emitted = new CountDownLatch(1);
        // when
        Pipeline.from(emitter -> {
                    for (int i = 0; i < 50; i++) {
                        emitter.emit((long) i, acks.ack(i));
                    }
                    emitted.countDown();
                })
                .buffer(1, Overflow.DROP_NEWEST)
                .to(Sink.forEach(x -> emitted.await()))
                .run();
        // then
        acks.assertEachToldOnce();
        assertThat(acks.counts().get(Disposition.DROPPED)).isPositive();
        assertThat(acks.counts().keySet()).containsOnly(Disposition.DROPPED, Disposition.PROCESSED);
    }

    @Test
    void concurrentMapsAcknowledgeEveryItemOrderedOrNot() throws Exception {
        for (boolean ordered : List.of(true, false)) {
            AckRecorder acks = new AckRecorder(2000);
            Pipeline<Long> p = Pipeline.from(acks.source());
            CheckedFunction<Long, Long> slow = x -> {
                if (x % 7 == 0) {
                    Thread.sleep(1);
                }
                if (x % 100 == 5) {
                    throw new IllegalStateException("skip me");
                }
                return x;
            };
            (ordered ? p.mapConcurrent(8, slow) : p.mapConcurrentUnordered(8, slow))
                    .onError(ErrorPolicy.skip())
                    .to(Sink.count())
                    .run();
            acks.assertEachToldOnce();
            assertThat(acks.counts())
                    .as("ordered %s", ordered)
                    .isEqualTo(Map.of(Disposition.PROCESSED, 1980, Disposition.SKIPPED, 20));
        }
    }

    @Test
    void cancellingReleasesEverythingUnfinishedBeforeAwaitReturns() throws Exception {
        // given: an endless tracked source into a slow sink
        int n = 1_000_000;
        AckRecorder acks = new AckRecorder(n);
        AtomicInteger emitted = new AtomicInteger();
        PipelineHandle<Long> handle = Pipeline.from(emitter -> {
                    for (int i = 0; i < n; i++) {
                        emitter.emit((long) i, acks.ack(i));
                        emitted.incrementAndGet();
                    }
                })
                .map(x -> x)
                .to(Sink.forEach(x -> Thread.sleep(1)))
                .start();
        await().atMost(Duration.ofSeconds(10)).until(() -> emitted.get() > 100);
        // when
        handle.cancel();
        assertThatThrownBy(handle::await).isInstanceOf(PipelineCancelledException.class);
        // then: every item emitted has been told, processed or released, and none twice
        int sent = emitted.get();
        for (int i = 0; i < sent; i++) {
            assertThat(acks.of(i)).as("item %d", i).isIn(Disposition.PROCESSED, Disposition.RELEASED);
        }
        assertThat(acks.counts().get(Disposition.RELEASED)).isPositive();
    }

    @Test
    void anEmitterOutsideARunRefusesTrackedItemsAndReleasesThem() {
        Emitter<String> plain = new Emitter<>() {
            @Override
            public void emit(String item) {}

            @Override
            public void emitAll(List<? extends String> items) {}

            @Override
            public StageContext context() {
                throw new UnsupportedOperationException();
            }
        };
        List<Disposition> told = new CopyOnWriteArrayList<>();
        assertThatThrownBy(() -> plain.emit("x", told::add)).isInstanceOf(UnsupportedOperationException.class);
        assertThat(told).containsExactly(Disposition.RELEASED);
    }

    @Test
    void emittingNullReleasesTheAcknowledgementAndFailsTheRun() {
        List<Disposition> told = new CopyOnWriteArrayList<>();
        assertThatThrownBy(() -> Pipeline.<String>from(emitter -> emitter.emit(null, told::add))
                        .to(Sink.count())
                        .run())
                .isInstanceOf(PipelineFailedException.class);
        assertThat(told).containsExactly(Disposition.RELEASED);
    }
}
