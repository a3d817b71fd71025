package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.pipeline.ChannelFixtures.Impl;
import java.time.Duration;
import java.util.AbstractCollection;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a misbehaving caller's collection cannot do to a channel. */
class ChannelEdgeCaseTest {

    /** A collection that claims more items than its iterator yields (as one changed by another thread may). */
    private static final class Shrinking extends AbstractCollection<Integer> {
        @Override
        public int size() {
            return 5;
        }

        @Override
        public Iterator<Integer> iterator() {
            return List.of(1, 2).iterator();
        }
    }

    @ChannelTest
    void aCollectionWhoseSizeLiesCannotLeaveAReservationUnsent(Impl impl, int capacity) throws Exception {
        // given
        Channel<Integer> ch = impl.make(capacity);
        // when
        Background<Void> sender = Background.<Void>start(() -> {
            ch.sendAll(new Shrinking());
            ch.close();
            return null;
        });
        // then: the two items arrive, then the end; nobody spins on an item that never comes
        List<Integer> got = new ArrayList<>();
        for (int x : ch) {
            got.add(x);
        }
        sender.result();
        assertThat(got).containsExactly(1, 2);
        assertThat(ch.isClosedForReceive()).isTrue();
    }

    @ChannelTest
    void aTargetThatRefusesTheItemStillFreesTheRoomForAWaitingSender(Impl impl, int capacity) throws Exception {
        // given a full channel and a sender waiting for room
        Channel<Integer> ch = impl.make(capacity);
        for (int i = 0; i < capacity; i++) {
            ch.trySend(i);
        }
        Background<Void> sender = Background.<Void>start(() -> {
                    ch.send(-1);
                    return null;
                })
                .awaitBlocked();
        // when a receive takes an item into a collection that throws
        assertThatThrownBy(() -> ch.receiveMany(List.of(), 1)).isInstanceOf(UnsupportedOperationException.class);
        // then the room it freed reaches the waiting sender
        sender.result();
        assertThat(ch.size()).isEqualTo(capacity);
    }

    @ChannelTest
    void aTimedReceiveKeepsItsDeadline(Impl impl, int capacity) throws Exception {
        Channel<Integer> ch = impl.make(capacity);
        long start = System.nanoTime();
        assertThat(ch.receive(Duration.ofMillis(30))).isNull();
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .isGreaterThanOrEqualTo(Duration.ofMillis(30))
                .isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void aCapacityBeyondTheLargestRingIsRefusedUnderEveryPolicy() {
        // 2^30 is JCTools' largest array queue; past it a channel cannot keep its exact capacity
        for (Overflow overflow : Overflow.values()) {
            for (int capacity : new int[] {(1 << 30) + 1, Integer.MAX_VALUE, 0, -1}) {
                assertThatThrownBy(() -> Channel.bounded(capacity, overflow))
                        .as("%s, capacity %d", overflow, capacity)
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessage("capacity must be between 1 and 1073741824 (2^30, the largest ring a channel's "
                                + "queue can hold), got " + capacity);
            }
        }
    }

    @Test
    void aMultiConsumerChannelHoldsExactlyItsCapacityThoughItsRingIsLarger() throws Exception {
        // the general channel's ring has twice the slots (RingBuffers): the channel still admits exactly capacity
        for (int capacity : new int[] {1, 2, 3, 16, 17}) {
            Channel<Integer> ch = Channel.bounded(capacity, Overflow.FAIL);
            for (int i = 0; i < capacity; i++) {
                ch.send(i);
            }
            assertThat(ch.trySend(-1)).as("capacity %d", capacity).isFalse();
            assertThatThrownBy(() -> ch.send(-1)).isInstanceOf(ChannelFullException.class);
            assertThat(ch.receive()).isZero();
            assertThat(ch.trySend(capacity)).isTrue();
            assertThat(ch.size()).isEqualTo(capacity);
        }
    }
}
