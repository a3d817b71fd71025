package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.ChannelFixtures.Impl;
import dev.sluice.pipeline.internal.ChannelShape;
import dev.sluice.pipeline.internal.Link;
import java.time.Duration;
import java.util.AbstractCollection;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

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
                for (Impl impl : List.of(ChannelFixtures.bounded(ChannelShape.MPMC), ChannelFixtures.blockingQueue())) {
                    assertThatThrownBy(() -> impl.make(capacity, overflow))
                            .as("%s, %s, capacity %d", impl, overflow, capacity)
                            .isInstanceOf(IllegalArgumentException.class)
                            .hasMessage("capacity must be between 1 and 1073741824 (2^30, the largest ring a channel's "
                                    + "queue can hold), got " + capacity);
                }
            }
        }
    }

    @Test
    void aDropCallbackRunsOutsideTheChannelSoTheMethodsThatNeverWaitDoNotWaitForIt() throws Exception {
        // given a DROP_OLDEST channel whose drop callback holds the sender that dropped until the test releases it
        CountDownLatch inCallback = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> dropped = new java.util.concurrent.CopyOnWriteArrayList<>();
        Channel<Integer> quotes = Channel.bounded(1, Overflow.DROP_OLDEST, oldest -> {
            dropped.add(oldest);
            inCallback.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        quotes.send(1);
        Thread sender = Thread.ofVirtual().start(() -> {
            try {
                quotes.send(2); // drops 1
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertThat(inCallback.await(10, java.util.concurrent.TimeUnit.SECONDS))
                    .isTrue();

            // when, while the callback runs, the channel is read, written and closed, then
            // none of it waits for the callback (each would hang while the callback held the channel's lock)
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                assertThat(quotes.tryReceive()).isEqualTo(2);
                assertThat(quotes.trySend(3)).isTrue();
                List<Integer> rest = new ArrayList<>();
                assertThat(quotes.drainTo(rest, 1)).isEqualTo(1);
                assertThat(rest).containsExactly(3);
                assertThat(quotes.close()).isTrue();
            });
            assertThat(dropped).containsExactly(1);
            assertThat(quotes.droppedCount()).isEqualTo(1);
        } finally {
            release.countDown();
            sender.join();
        }
    }

    @Test
    void aChannelSinksValueCountsOnlyWhatTheChannelTook() throws Exception {
        // given a DROP_NEWEST channel of one that nobody reads
        Channel<Long> out = Channel.bounded(1, Overflow.DROP_NEWEST);

        // when a pipeline sends ten items into it
        long sent =
                Pipeline.from(Source.range(0, 10)).to(Sink.toChannel(out)).run().value();

        // then its value counts the one the channel took, not the nine it discarded
        assertThat(out.droppedCount()).isEqualTo(9);
        assertThat(sent).isEqualTo(1);
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

    /** How a test receives without waiting for a send: the three ways that must not miss an admitted item. */
    enum PromptReceive {
        ZERO_TIMEOUT,
        ONE_MILLISECOND,
        TRY_RECEIVE;

        Integer from(Channel<Integer> ch) throws InterruptedException {
            return switch (this) {
                case ZERO_TIMEOUT -> ch.receive(Duration.ZERO);
                case ONE_MILLISECOND -> ch.receive(Duration.ofMillis(1));
                case TRY_RECEIVE -> ch.tryReceive();
            };
        }
    }

    static Stream<Arguments> shapesAndPromptReceives() {
        return Stream.of(ChannelShape.values())
                .flatMap(shape -> Stream.of(PromptReceive.values()).map(how -> Arguments.of(shape, how)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("shapesAndPromptReceives")
    @Timeout(20)
    void aPromptReceiveAfterACloseWaitsForAnItemAdmittedBeforeIt(ChannelShape shape, PromptReceive how)
            throws Exception {
        // given a send admitted before the close whose item has not landed yet: the group's list hands the item
        // over only when released, after the channel has counted its reservation
        Link<Integer> ch = Link.create(4, Overflow.BLOCK, null, shape);
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> heldBack = new AbstractList<>() {
            @Override
            public Integer get(int index) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return 7;
            }

            @Override
            public int size() {
                return 1;
            }
        };
        Background<Integer> sender = Background.start(() -> ch.sendGroup(heldBack, 0));
        await().atMost(Duration.ofSeconds(10)).until(() -> ch.size() == 1);
        assertThat(ch.close()).isTrue();
        // when a receive that must not wait starts after the close
        Background<Integer> receiver = Background.start(() -> how.from(ch));
        // then it does not report the channel empty while the item is on its way...
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> !receiver.isDone());
        // ...and returns it once it lands; then the channel is over
        release.countDown();
        assertThat(receiver.result()).isEqualTo(7);
        assertThat(sender.result()).isEqualTo(1);
        assertThatThrownBy(() -> how.from(ch)).isInstanceOf(ChannelClosedException.class);
    }
}
