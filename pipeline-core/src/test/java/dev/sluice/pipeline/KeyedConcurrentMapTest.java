package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code mapConcurrentByKey}: order within a key, parallelism across keys, the window's bound. */
@Timeout(60)
class KeyedConcurrentMapTest {

    record Event(int key, int seq) {}

    @RepeatedTest(5)
    void itemsOfOneKeyAreProcessedOneAtATimeAndPassedOnInInputOrderUnderRandomDelays() throws Exception {
        // given: 5000 events over 37 keys, with random call times
        List<Event> events = new ArrayList<>();
        Map<Integer, Integer> next = new HashMap<>();
        for (int i = 0; i < 5000; i++) {
            int key = ThreadLocalRandom.current().nextInt(37);
            events.add(new Event(key, next.merge(key, 1, Integer::sum)));
        }
        Map<Integer, AtomicInteger> inCall = new ConcurrentHashMap<>();
        List<String> overlaps = new CopyOnWriteArrayList<>();
        // when
        List<Event> out = Pipeline.from(Source.from(events))
                .mapConcurrentByKey(8, Event::key, e -> {
                    AtomicInteger calls = inCall.computeIfAbsent(e.key(), k -> new AtomicInteger());
                    if (calls.incrementAndGet() > 1) {
                        overlaps.add("two calls at once for key " + e.key());
                    }
                    if (ThreadLocalRandom.current().nextInt(10) == 0) {
                        Thread.sleep(0, ThreadLocalRandom.current().nextInt(500_000));
                    }
                    calls.decrementAndGet();
                    return e;
                })
                .to(Sink.toList())
                .run()
                .value();
        // then
        assertThat(overlaps).isEmpty();
        assertThat(out).hasSize(events.size()).containsExactlyInAnyOrderElementsOf(events);
        Map<Integer, Integer> lastSeq = new HashMap<>();
        for (Event e : out) {
            int previous = lastSeq.getOrDefault(e.key(), 0);
            assertThat(e.seq()).as("key %d", e.key()).isEqualTo(previous + 1);
            lastSeq.put(e.key(), e.seq());
        }
    }

    @Test
    void differentKeysRunInParallel() throws Exception {
        // given: key 1's call can finish only while key 2's call runs, and the other way round
        CountDownLatch oneIn = new CountDownLatch(1);
        CountDownLatch twoIn = new CountDownLatch(1);
        // when
        List<Integer> out = Pipeline.from(Source.of(1, 2))
                .mapConcurrentByKey(2, k -> k, k -> {
                    (k == 1 ? oneIn : twoIn).countDown();
                    if (!(k == 1 ? twoIn : oneIn).await(10, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("the two keys did not run at the same time");
                    }
                    return k;
                })
                .to(Sink.toList())
                .run()
                .value();
        // then
        assertThat(out).containsExactlyInAnyOrder(1, 2);
    }

    // From a window of 8 the dispatcher waits for a group of free permits (a quarter of the window); the last ones
    // must still be taken once the workers run out of work, or the window would never fill with the slow key's items.
    @ParameterizedTest(name = "window {0}")
    @ValueSource(ints = {3, 6, 24, 64})
    void aSlowKeyHoldsTheOthersBackOnlyOnceTheWindowIsFullOfItsItems(int window) throws Exception {
        // given: key 0 is stuck; every third item is key 0, the others have keys of their own
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> done = new CopyOnWriteArrayList<>();
        List<Integer> items = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            items.add(i);
        }
        // when
        PipelineHandle<Long> handle = Pipeline.from(Source.from(items))
                .buffer(1)
                .mapConcurrentByKey(3, window, i -> i % 3 == 0 ? 0 : i, i -> {
                    if (i % 3 == 0) {
                        release.await();
                    }
                    done.add(i);
                    return i;
                })
                .to(Sink.count())
                .start();
        // then: the other keys go on until the window holds `window` items of key 0 (0, 3, …, 3 × (window - 1));
        // the items before the last of them are all done, and nothing after it is taken in
        List<Integer> expected = new ArrayList<>();
        for (int i = 1; i < 3 * window - 3; i++) {
            if (i % 3 != 0) {
                expected.add(i);
            }
        }
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(done).containsExactlyInAnyOrderElementsOf(expected));
        await().during(Duration.ofMillis(300))
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(done).hasSameSizeAs(expected));
        // when the slow key is released, everything completes
        release.countDown();
        assertThat(handle.await().value()).isEqualTo(300L);
    }

    @RepeatedTest(5)
    void aPermitFreedWhileWorkersWaitForAKeyIsTakenAtOnce() throws Exception {
        // given: window 24 (room for a group of permits before the dispatcher is woken) and 3 workers; the window
        // fills with 24 items of key 0, whose first waits to be let go and the others wait for the end; then an
        // item of another key (1000), and one more (1001) that shows the dispatcher has taken 1000 in
        int window = 24;
        CountDownLatch firstMayFinish = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> done = new CopyOnWriteArrayList<>();
        AtomicInteger emitted = new AtomicInteger();
        Source<Integer> source = emitter -> {
            for (int i = 0; i < window; i++) {
                emitter.emit(i);
                emitted.incrementAndGet();
            }
            emitter.emit(1_000);
            emitted.incrementAndGet();
            emitter.emit(1_001);
            emitted.incrementAndGet();
        };
        // when
        PipelineHandle<Long> handle = Pipeline.from(source)
                .buffer(1)
                .mapConcurrentByKey(3, window, i -> i < window ? 0 : i, i -> {
                    if (i == 0) {
                        firstMayFinish.await();
                    } else if (i < window) {
                        release.await();
                    }
                    done.add(i);
                    return i;
                })
                .to(Sink.count())
                .start();
        // the window is full of key 0's items and the dispatcher holds 1000: 1001 is in the one-item link
        await().atMost(Duration.ofSeconds(10)).until(() -> emitted.get() == window + 2);
        firstMayFinish.countDown();
        // then: the permit the first item frees, while two workers wait for a key, lets 1000 in at once, though
        // key 0 holds every other permit and its worker takes the key straight back; 1001 follows on 1000's permit
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(done).containsExactly(0, 1_000, 1_001));
        release.countDown();
        assertThat(handle.await().value()).isEqualTo(window + 2L);
    }

    @Test
    void keyedItemsAreAcknowledgedAndAFailingKeyFunctionGoesToTheErrorPolicy() throws Exception {
        AckRecorder acks = new AckRecorder(1000);
        Pipeline.from(acks.source())
                .mapConcurrentByKey(
                        4,
                        x -> {
                            if (x == 10) {
                                throw new IllegalStateException("no key for 10");
                            }
                            return x % 13;
                        },
                        x -> {
                            if (x == 20) {
                                throw new IllegalStateException("bad 20");
                            }
                            return x;
                        })
                .onError(ErrorPolicy.skip())
                .to(Sink.count())
                .run();
        acks.assertEachToldOnce();
        assertThat(acks.of(10)).isEqualTo(Disposition.SKIPPED);
        assertThat(acks.of(20)).isEqualTo(Disposition.SKIPPED);
        assertThat(acks.counts()).containsEntry(Disposition.PROCESSED, 998);
    }

    /** A key whose hashCode or equals can fail; every other key has the same hash code, so lookups compare keys. */
    record FragileKey(long id) {
        static final long NO_HASH = -1;
        static final long NO_EQUALS = -2;

        @Override
        public int hashCode() {
            if (id == NO_HASH) {
                throw new IllegalStateException("no hash code for this key");
            }
            return 0;
        }

        @Override
        public boolean equals(Object o) {
            if (id == NO_EQUALS) {
                throw new IllegalStateException("this key cannot be compared");
            }
            return o instanceof FragileKey k && k.id == id;
        }
    }

    @Test
    void aKeyWhoseHashCodeOrEqualsThrowsFailsOnlyItsItemAndGivesItsPermitBack() throws Exception {
        // given: a window of 2; item 10's key has no hash code; item 20's key throws when compared, and item 19's key
        // is still active when item 20 comes (19's call waits for 20's outcome), so 20's lookup compares the two
        AckRecorder acks = new AckRecorder(200);
        PipelineHandle<Long> handle = Pipeline.from(acks.source())
                .mapConcurrentByKey(
                        2,
                        2,
                        x -> new FragileKey(x == 10 ? FragileKey.NO_HASH : x == 20 ? FragileKey.NO_EQUALS : x % 7),
                        x -> {
                            if (x == 19) {
                                await().atMost(Duration.ofSeconds(20)).until(() -> acks.of(20) == Disposition.SKIPPED);
                            }
                            return x;
                        })
                .onError(ErrorPolicy.skip())
                .to(Sink.count())
                .start();
        // then: both items are skipped, the rest processed, and the run ends (it waits for every permit at the end,
        // so a permit kept by a failed item would hold it for ever)
        try {
            assertThat(handle.await(Duration.ofSeconds(30)).value()).isEqualTo(198L);
        } finally {
            handle.cancel(); // no effect on an ended run
        }
        acks.assertEachToldOnce();
        assertThat(acks.of(10)).isEqualTo(Disposition.SKIPPED);
        assertThat(acks.of(20)).isEqualTo(Disposition.SKIPPED);
        assertThat(acks.counts()).containsEntry(Disposition.PROCESSED, 198);
    }

    @Test
    void retiringAKeyDoesNotRunItsEquals() throws Exception {
        // given: item 0's key throws when compared and comes first (nothing to compare it with); one worker, held on
        // item 0 until 40 more keys of the same hash code are active, so that the keys' map keeps them in one tree
        // whose search, when item 0's key retires, starts at another key
        AtomicInteger keyed = new AtomicInteger();
        List<Long> out = Pipeline.from(Source.range(0, 200))
                .mapConcurrentByKey(
                        1,
                        64,
                        x -> {
                            keyed.incrementAndGet();
                            return new FragileKey(x == 0 ? FragileKey.NO_EQUALS : 1 + x % 40);
                        },
                        x -> {
                            if (x == 0) {
                                await().atMost(Duration.ofSeconds(20)).until(() -> keyed.get() > 41);
                            }
                            return x;
                        })
                .to(Sink.toList())
                .run(Duration.ofSeconds(30))
                .value();
        // then: no item failed (the default policy would fail the run), and every one came out
        assertThat(out).hasSize(200);
    }

    @Test
    void badArgumentsAreRefusedWithTheirNames() {
        Pipeline<Integer> p = Pipeline.from(Source.of(1));
        assertThatThrownBy(() -> p.mapConcurrentByKey(0, x -> x, x -> x))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(
                        "concurrency must be between 1 and 1048576 (2^20; the stage starts a thread for each), got 0");
        assertThatThrownBy(() -> p.mapConcurrentByKey(4, 3, x -> x, x -> x))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("window must be at least concurrency (4), got 3");
        assertThatThrownBy(() -> p.mapConcurrentByKey(4, null, x -> x))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("keyFn must not be null");
    }
}
