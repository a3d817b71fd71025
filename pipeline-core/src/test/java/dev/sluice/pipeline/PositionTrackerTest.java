package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class PositionTrackerTest {

    @Test
    void committableIsTheNextPositionBeforeAnythingCompletes() {
        // given
        PositionTracker tracker = new PositionTracker(100);
        // when
        tracker.track(100);
        tracker.track(101);
        // then
        assertThat(tracker.committable()).isEqualTo(100);
        assertThat(tracker.inFlight()).isEqualTo(2);
        assertThat(tracker.unacknowledged()).isEqualTo(2);
    }

    @Test
    void committableAdvancesOnlyOverTheContiguousCompletedPrefix() {
        // given
        PositionTracker tracker = new PositionTracker(0);
        List<Acknowledgement> acks = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            acks.add(tracker.track(i));
        }
        // when: completions out of order
        acks.get(2).done(Disposition.PROCESSED);
        acks.get(1).done(Disposition.FILTERED);
        // then
        assertThat(tracker.committable()).isZero();
        // when
        acks.get(0).done(Disposition.SKIPPED);
        // then: 0, 1 and 2 are done
        assertThat(tracker.committable()).isEqualTo(3);
        assertThat(tracker.inFlight()).isEqualTo(2);
        // when
        acks.get(4).done(Disposition.DROPPED);
        acks.get(3).done(Disposition.DEAD_LETTERED);
        // then: all complete, committable is last + 1
        assertThat(tracker.committable()).isEqualTo(5);
        assertThat(tracker.inFlight()).isZero();
    }

    @Test
    void aReleasedOrFailedPositionHoldsCommittableForGood() {
        for (Disposition incomplete : List.of(Disposition.RELEASED, Disposition.FAILED)) {
            // given
            PositionTracker tracker = new PositionTracker(0);
            Acknowledgement a0 = tracker.track(0);
            Acknowledgement a1 = tracker.track(1);
            Acknowledgement a2 = tracker.track(2);
            // when
            a0.done(Disposition.PROCESSED);
            a1.done(incomplete);
            a2.done(Disposition.PROCESSED);
            // then
            assertThat(tracker.committable()).as("%s", incomplete).isEqualTo(1);
            assertThat(tracker.unacknowledged()).isZero();
            assertThat(tracker.inFlight()).isEqualTo(2);
        }
    }

    @Test
    void positionsNeverTrackedCountAsComplete() {
        // given: gaps, as in a compacted Kafka partition
        PositionTracker tracker = new PositionTracker(10);
        Acknowledgement a = tracker.track(15);
        Acknowledgement b = tracker.track(40);
        // then: nothing below 15 is in flight
        assertThat(tracker.committable()).isEqualTo(15);
        // when
        a.done(Disposition.PROCESSED);
        // then
        assertThat(tracker.committable()).isEqualTo(40);
        // when
        b.done(Disposition.PROCESSED);
        // then
        assertThat(tracker.committable()).isEqualTo(41);
    }

    @Test
    void trackRefusesPositionsThatDoNotIncrease() {
        PositionTracker tracker = new PositionTracker(5);
        assertThatThrownBy(() -> tracker.track(4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("position must be above the last position tracked")
                .hasMessageContaining("at least 5")
                .hasMessageEndingWith("got 4");
        tracker.track(7);
        assertThatThrownBy(() -> tracker.track(7))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 8");
        assertThatThrownBy(() -> tracker.track(Long.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PositionTracker(Long.MIN_VALUE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("nextPosition must");
    }

    @Test
    void anAcknowledgementCalledTwiceIsRefused() {
        PositionTracker tracker = new PositionTracker(0);
        Acknowledgement ack = tracker.track(0);
        ack.done(Disposition.PROCESSED);
        assertThatThrownBy(() -> ack.done(Disposition.PROCESSED))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("position 0 was acknowledged twice");
        assertThat(tracker.committable()).isEqualTo(1);
    }

    @Test
    void memoryHoldsOnlyWhatIsInFlight() {
        // given: a long run acknowledged with at most 1000 positions open at a time
        PositionTracker tracker = new PositionTracker(0);
        List<Acknowledgement> open = new ArrayList<>();
        for (long p = 0; p < 1_000_000; p++) {
            open.add(tracker.track(p));
            if (open.size() == 1000) {
                Collections.reverse(open);
                open.forEach(a -> a.done(Disposition.PROCESSED));
                open.clear();
                // then
                assertThat(tracker.inFlight()).isZero();
            }
            assertThat(tracker.inFlight()).isLessThanOrEqualTo(1000);
        }
        assertThat(tracker.committable()).isEqualTo(1_000_000);
    }

    @Test
    void theAdvanceCallbackSeesEveryAdvanceInIncreasingOrder() {
        // given
        List<Long> advances = new CopyOnWriteArrayList<>();
        PositionTracker tracker = new PositionTracker(0, advances::add);
        Acknowledgement a0 = tracker.track(0);
        Acknowledgement a1 = tracker.track(1);
        Acknowledgement a2 = tracker.track(2);
        // when
        a1.done(Disposition.PROCESSED); // not at the head: no advance
        a0.done(Disposition.PROCESSED);
        a2.done(Disposition.PROCESSED);
        // then
        assertThat(advances).containsExactly(2L, 3L);
    }

    @Test
    void concurrentAcknowledgementsLeaveTheWholeRangeCommittable() throws Exception {
        // given: one thread tracks, eight acknowledge in whatever order they get to
        int n = 40_000;
        PositionTracker tracker = new PositionTracker(0);
        List<Long> advances = new CopyOnWriteArrayList<>();
        PositionTracker watched = new PositionTracker(0, advances::add);
        List<Acknowledgement> acks = new ArrayList<>(n);
        List<Acknowledgement> watchedAcks = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            acks.add(tracker.track(i));
            watchedAcks.add(watched.track(i));
        }
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int offset = t;
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = offset; i < n; i += 8) {
                        acks.get(i).done(Disposition.PROCESSED);
                        watchedAcks.get(i).done(Disposition.PROCESSED);
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        }
        // then
        assertThat(tracker.committable()).isEqualTo(n);
        assertThat(tracker.inFlight()).isZero();
        assertThat(advances).isSorted().last().isEqualTo((long) n);
    }
}
