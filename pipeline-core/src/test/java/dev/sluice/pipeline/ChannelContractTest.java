package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.pipeline.ChannelFixtures.Impl;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.stream.IntStream;

/**
 * The contract every channel keeps, for every implementation and capacity. At most one thread sends and one
 * receives at a time here, so that the single-producer and single-consumer shapes are held to it too.
 */
class ChannelContractTest {

    private static List<Integer> upTo(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    private static void fill(Channel<Integer> ch, int n) {
        for (int i = 0; i < n; i++) {
            assertThat(ch.trySend(i)).as("trySend #%d", i).isTrue();
        }
    }

    // ------------------------------------------------------------------------------------ basics

    @ChannelTest
    void itemsArriveInSendOrder(Impl impl, int capacity) throws Exception {
        // given
        Channel<Integer> ch = impl.make(capacity);
        int items = capacity * 3 + 5;
        // when
        Background<Void> sender = Background.<Void>start(() -> {
            for (int i = 0; i < items; i++) {
                ch.send(i);
            }
            return null;
        });
        List<Integer> received = new ArrayList<>();
        for (int i = 0; i < items; i++) {
            received.add(ch.receive());
        }
        sender.result();
        // then
        assertThat(received).isEqualTo(upTo(items));
    }

    @ChannelTest
    void capacityIsExact(Impl impl, int capacity) {
        // given
        Channel<Integer> ch = impl.make(capacity);
        // when
        fill(ch, capacity);
        // then
        assertThat(ch.trySend(-1)).isFalse();
        assertThat(ch.size()).isEqualTo(capacity);
        assertThat(ch.capacity()).isEqualTo(capacity);
    }

    @ChannelTest
    void sizeCountsBufferedItems(Impl impl, int capacity) {
        Channel<Integer> ch = impl.make(capacity);
        assertThat(ch.size()).isZero();
        ch.trySend(1);
        assertThat(ch.size()).isEqualTo(1);
        ch.tryReceive();
        assertThat(ch.size()).isZero();
    }

    @ChannelTest
    void sendWaitsWhileFullUntilAnItemIsReceived(Impl impl, int capacity) throws Exception {
        // given
        Channel<Integer> ch = impl.make(capacity);
        fill(ch, capacity);
        // when
        Background<Void> sender = Background.<Void>start(() -> {
                    ch.send(-1);
                    return null;
                })
                .awaitBlocked();
        assertThat(ch.receive()).isZero();
        // then
        sender.result();
        List<Integer> rest = new ArrayList<>();
        ch.drainTo(rest, Integer.MAX_VALUE);
        assertThat(rest).endsWith(-1).hasSize(capacity);
    }

    @ChannelTest
    void receiveWaitsUntilAnItemIsSent(Impl impl, int capacity) throws Exception {
        Channel<String> ch = impl.make(capacity);
        Background<String> receiver = Background.start(ch::receive).awaitBlocked();
        ch.send("x");
        assertThat(receiver.result()).isEqualTo("x");
    }

    @ChannelTest
    void timedSendGivesUpAfterTheTimeout(Impl impl, int capacity) throws Exception {
        Channel<Integer> ch = impl.make(capacity);
        fill(ch, capacity);
        long start = System.nanoTime();
        boolean sent = ch.send(-1, Duration.ofMillis(50));
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(sent).isFalse();
        assertThat(tookMillis).isGreaterThanOrEqualTo(50);
        assertThat(ch.size()).isEqualTo(capacity);
    }

    @ChannelTest
    void timedReceiveGivesUpAfterTheTimeout(Impl impl, int capacity) throws Exception {
        Channel<Integer> ch = impl.make(capacity);
        long start = System.nanoTime();
        Integer item = ch.receive(Duration.ofMillis(50));
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(item).isNull();
        assertThat(tookMillis).isGreaterThanOrEqualTo(50);
    }

    @ChannelTest
    void timedOperationsSucceedWhenTheyCan(Impl impl, int capacity) throws Exception {
        Channel<Integer> ch = impl.make(capacity);
        assertThat(ch.send(7, Duration.ZERO)).isTrue();
        assertThat(ch.receive(Duration.ZERO)).isEqualTo(7);
        Background<Integer> receiver =
                Background.start(() -> ch.receive(Duration.ofSeconds(10))).awaitBlocked();
        ch.send(8);
        assertThat(receiver.result()).isEqualTo(8);
    }

    @ChannelTest
    void tryReceiveReturnsNullWhenEmpty(Impl impl, int capacity) {
        Channel<Integer> ch = impl.make(capacity);
        assertThat(ch.tryReceive()).isNull();
        ch.trySend(3);
        assertThat(ch.tryReceive()).isEqualTo(3);
        assertThat(ch.tryReceive()).isNull();
    }

    @ChannelTest
    void receiveManyTakesWhatIsWaitingUpToTheMaximum(Impl impl, int capacity) throws Exception {
        Channel<Integer> ch = impl.make(capacity);
        fill(ch, capacity);
        List<Integer> got = new ArrayList<>();
        int n = ch.receiveMany(got, Math.max(1, capacity / 2));
        assertThat(n).isEqualTo(Math.max(1, capacity / 2));
        assertThat(got).isEqualTo(upTo(n));
        got.clear();
        ch.trySend(capacity);
        assertThat(ch.receiveMany(got, Integer.MAX_VALUE)).isEqualTo(capacity - n + 1);
        assertThat(got).isEqualTo(upTo(capacity + 1).subList(n, capacity + 1));
    }

    @ChannelTest
    void receiveManyWaitsForTheFirstItem(Impl impl, int capacity) throws Exception {
        Channel<Integer> ch = impl.make(capacity);
        List<Integer> got = new ArrayList<>();
        Background<Integer> receiver =
                Background.start(() -> ch.receiveMany(got, 10)).awaitBlocked();
        ch.send(1);
        assertThat(receiver.result()).isEqualTo(1);
        assertThat(got).containsExactly(1);
    }

    @ChannelTest
    void drainToNeverWaits(Impl impl, int capacity) {
        Channel<Integer> ch = impl.make(capacity);
        List<Integer> got = new ArrayList<>();
        assertThat(ch.drainTo(got, 5)).isZero();
        fill(ch, capacity);
        assertThat(ch.drainTo(got, 0)).isZero();
        assertThat(ch.drainTo(got, Integer.MAX_VALUE)).isEqualTo(capacity);
        assertThat(got).isEqualTo(upTo(capacity));
    }

    @ChannelTest
    void sendAllSendsEverythingInOrderWaitingForRoom(Impl impl, int capacity) throws Exception {
        Channel<Integer> ch = impl.make(capacity);
        List<Integer> items = upTo(capacity * 4 + 3);
        Background<Void> sender = Background.<Void>start(() -> {
            ch.sendAll(items);
            return null;
        });
        List<Integer> got = new ArrayList<>();
        while (got.size() < items.size()) {
            ch.receiveMany(got, 7);
        }
        sender.result();
        assertThat(got).isEqualTo(items);
    }

    // ----------------------------------------------------------------------------------- closing

    @ChannelTest
    void closeDeliversBufferedItemsThenEnds(Impl impl, int capacity) throws Exception {
        // given
        Channel<Integer> ch = impl.make(capacity);
        fill(ch, capacity);
        // when
        assertThat(ch.close()).isTrue();
        // then
        assertThat(ch.isClosedForSend()).isTrue();
        assertThat(ch.isClosedForReceive()).isFalse();
        List<Integer> got = new ArrayList<>();
        for (int i = 0; i < capacity; i++) {
            got.add(ch.receive());
        }
        assertThat(got).isEqualTo(upTo(capacity));
        assertThat(ch.isClosedForReceive()).isTrue();
        assertThatThrownBy(ch::receive).isExactlyInstanceOf(ChannelClosedException.class);
        assertThatThrownBy(ch::tryReceive).isExactlyInstanceOf(ChannelClosedException.class);
        assertThatThrownBy(() -> ch.receive(Duration.ofSeconds(1))).isExactlyInstanceOf(ChannelClosedException.class);
        assertThatThrownBy(() -> ch.receiveMany(new ArrayList<>(), 3))
                .isExactlyInstanceOf(ChannelClosedException.class);
        assertThat(ch.drainTo(new ArrayList<>(), 3)).isZero();
    }

    @ChannelTest
    void closeIsIdempotent(Impl impl, int capacity) {
        Channel<Integer> ch = impl.make(capacity);
        assertThat(ch.close()).isTrue();
        assertThat(ch.close()).isFalse();
        assertThat(ch.fail(new RuntimeException("after close, nothing buffered")))
                .isFalse();
    }

    @ChannelTest
    void sendAfterCloseThrows(Impl impl, int capacity) {
        Channel<Integer> ch = impl.make(capacity);
        ch.close();
        assertThatThrownBy(() -> ch.send(1)).isExactlyInstanceOf(ChannelClosedException.class);
        assertThatThrownBy(() -> ch.trySend(1)).isExactlyInstanceOf(ChannelClosedException.class);
        assertThatThrownBy(() -> ch.send(1, Duration.ofSeconds(1))).isExactlyInstanceOf(ChannelClosedException.class);
        assertThatThrownBy(() -> ch.sendAll(List.of(1, 2))).isExactlyInstanceOf(ChannelClosedException.class);
    }

    @ChannelTest
    void closeWakesAWaitingReceiver(Impl impl, int capacity) throws Exception {
        Channel<Integer> ch = impl.make(capacity);
        Background<Integer> receiver = Background.start(ch::receive).awaitBlocked();
        ch.close();
        assertThat(receiver.failure()).isExactlyInstanceOf(ChannelClosedException.class);
    }

    @ChannelTest
    void closeWakesAWaitingSender(Impl impl, int capacity) throws Exception {
        Channel<Integer> ch = impl.make(capacity);
        fill(ch, capacity);
        Background<Void> sender = Background.<Void>start(() -> {
                    ch.send(-1);
                    return null;
                })
                .awaitBlocked();
        ch.close();
        assertThat(sender.failure()).isExactlyInstanceOf(ChannelClosedException.class);
        assertThat(ch.size()).isEqualTo(capacity);
    }

    @ChannelTest
    void failIsAbortiveForReceivers(Impl impl, int capacity) {
        // given
        Channel<Integer> ch = impl.make(capacity);
        fill(ch, capacity);
        IllegalStateException cause = new IllegalStateException("boom");
        // when
        assertThat(ch.fail(cause)).isTrue();
        // then no batch puts an abandoned item into the caller's collection, and iteration never reads as drained
        List<Integer> target = new ArrayList<>();
        assertThatThrownBy(() -> ch.drainTo(target, capacity)).isInstanceOf(ChannelFailedException.class);
        assertThatThrownBy(() -> ch.receiveMany(target, capacity)).isInstanceOf(ChannelFailedException.class);
        assertThat(target).isEmpty();
        java.util.Iterator<Integer> iterator = ch.iterator();
        assertThatThrownBy(iterator::hasNext).isInstanceOf(ChannelFailedException.class);
        assertThatThrownBy(iterator::hasNext).isInstanceOf(ChannelFailedException.class);
        assertThatThrownBy(ch::receive)
                .isInstanceOf(ChannelFailedException.class)
                .hasCause(cause);
        assertThatThrownBy(ch::tryReceive)
                .isInstanceOf(ChannelFailedException.class)
                .hasCause(cause);
        assertThatThrownBy(() -> ch.drainTo(new ArrayList<>(), 1)).isInstanceOf(ChannelFailedException.class);
        assertThatThrownBy(() -> ch.send(1))
                .isInstanceOf(ChannelFailedException.class)
                .hasCause(cause);
        assertThat(ch.isClosedForReceive()).isTrue();
        assertThat(ch.isClosedForSend()).isTrue();
        assertThat(ch.failure()).containsSame(cause);
        assertThat(ch.fail(new RuntimeException("second"))).isFalse();
    }

    @ChannelTest
    void failAfterCloseStillAbortsUndeliveredItems(Impl impl, int capacity) {
        Channel<Integer> ch = impl.make(capacity);
        fill(ch, capacity);
        ch.close();
        RuntimeException cause = new RuntimeException("abort");
        assertThat(ch.fail(cause)).isTrue();
        assertThatThrownBy(ch::receive)
                .isInstanceOf(ChannelFailedException.class)
                .hasCause(cause);
    }

    @ChannelTest
    void failWakesWaitingReceiverAndSenderWithTheCause(Impl impl, int capacity) throws Exception {
        Channel<Integer> receiving = impl.make(capacity);
        Channel<Integer> sending = impl.make(capacity);
        fill(sending, capacity);
        Background<Integer> receiver = Background.start(receiving::receive).awaitBlocked();
        Background<Void> sender = Background.<Void>start(() -> {
                    sending.send(-1);
                    return null;
                })
                .awaitBlocked();
        RuntimeException cause = new RuntimeException("stop");
        receiving.fail(cause);
        sending.fail(cause);
        assertThat(receiver.failure())
                .isInstanceOf(ChannelFailedException.class)
                .hasCause(cause);
        assertThat(sender.failure()).isInstanceOf(ChannelFailedException.class).hasCause(cause);
    }

    // ----------------------------------------------------------------------------- interruption

    @ChannelTest
    void interruptedWaitingReceiveTakesNothing(Impl impl, int capacity) throws Exception {
        // given
        Channel<Integer> ch = impl.make(capacity);
        Background<Integer> receiver = Background.start(ch::receive).awaitBlocked();
        // when
        receiver.thread().interrupt();
        // then
        assertThat(receiver.failure()).isInstanceOf(InterruptedException.class);
        ch.send(1);
        assertThat(ch.receive()).isEqualTo(1);
        assertThat(ch.size()).isZero();
    }

    @ChannelTest
    void interruptedWaitingSendSendsNothing(Impl impl, int capacity) throws Exception {
        Channel<Integer> ch = impl.make(capacity);
        fill(ch, capacity);
        Background<Void> sender = Background.<Void>start(() -> {
                    ch.send(-1);
                    return null;
                })
                .awaitBlocked();
        sender.thread().interrupt();
        assertThat(sender.failure()).isInstanceOf(InterruptedException.class);
        List<Integer> got = new ArrayList<>();
        ch.drainTo(got, Integer.MAX_VALUE);
        assertThat(got).isEqualTo(upTo(capacity));
        // No stale waiter is left: a send and a receive still work both ways.
        ch.send(5);
        assertThat(ch.receive()).isEqualTo(5);
    }

    @ChannelTest
    void anInterruptedThreadCannotSendOrReceive(Impl impl, int capacity) {
        Channel<Integer> ch = impl.make(capacity);
        ch.trySend(1);
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> ch.send(2)).isInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted()).as("flag cleared by the throw").isFalse();
        Thread.currentThread().interrupt();
        assertThatThrownBy(ch::receive).isInstanceOf(InterruptedException.class);
        assertThat(ch.size()).isEqualTo(1);
    }

    // --------------------------------------------------------------------------------- iteration

    @ChannelTest
    void iterationEndsAfterCloseAndDrain(Impl impl, int capacity) throws Exception {
        Channel<Integer> ch = impl.make(capacity);
        Background<Void> sender = Background.<Void>start(() -> {
            for (int i = 0; i < capacity * 2; i++) {
                ch.send(i);
            }
            ch.close();
            return null;
        });
        List<Integer> got = new ArrayList<>();
        for (int x : ch) {
            got.add(x);
        }
        sender.result();
        assertThat(got).isEqualTo(upTo(capacity * 2));
    }

    @ChannelTest
    void iterationRethrowsAFailure(Impl impl, int capacity) {
        Channel<Integer> ch = impl.make(capacity);
        ch.trySend(1);
        RuntimeException cause = new RuntimeException("upstream broke");
        ch.fail(cause);
        Iterator<Integer> it = ch.iterator();
        assertThatThrownBy(it::hasNext)
                .isInstanceOf(ChannelFailedException.class)
                .hasCause(cause);
    }

    @ChannelTest
    void interruptedIterationRestoresTheFlagAndThrowsCancellation(Impl impl, int capacity) throws Exception {
        Channel<Integer> ch = impl.make(capacity);
        Background<Boolean> iterating = Background.start(() -> {
                    try {
                        for (int ignored : ch) {
                            // nothing arrives
                        }
                        return false;
                    } catch (CancellationException e) {
                        return Thread.currentThread().isInterrupted();
                    }
                })
                .awaitBlocked();
        iterating.thread().interrupt();
        assertThat(iterating.result()).as("interrupt flag restored").isTrue();
    }

    // ------------------------------------------------------------------------------------ overflow

    @ChannelTest
    void dropOldestKeepsTheNewestItemsAndCountsTheDropped(Impl impl, int capacity) throws Exception {
        List<Integer> dropped = new ArrayList<>();
        Channel<Integer> ch = impl.make(capacity, Overflow.DROP_OLDEST, dropped::add);
        int items = capacity + 5;
        for (int i = 0; i < items; i++) {
            ch.send(i); // never waits
        }
        assertThat(ch.trySend(items)).isTrue();
        List<Integer> kept = new ArrayList<>();
        ch.drainTo(kept, Integer.MAX_VALUE);
        assertThat(kept).isEqualTo(upTo(items + 1).subList(items + 1 - capacity, items + 1));
        assertThat(dropped).isEqualTo(upTo(items + 1 - capacity));
        assertThat(ch.droppedCount()).isEqualTo(items + 1 - capacity);
    }

    @ChannelTest
    void dropNewestKeepsTheOldestItemsAndCountsTheDropped(Impl impl, int capacity) throws Exception {
        List<Integer> dropped = new ArrayList<>();
        Channel<Integer> ch = impl.make(capacity, Overflow.DROP_NEWEST, dropped::add);
        for (int i = 0; i < capacity + 3; i++) {
            ch.send(i);
        }
        assertThat(ch.send(-1, Duration.ofSeconds(5))).isFalse();
        assertThat(ch.trySend(-2)).isFalse();
        List<Integer> kept = new ArrayList<>();
        ch.drainTo(kept, Integer.MAX_VALUE);
        assertThat(kept).isEqualTo(upTo(capacity));
        assertThat(dropped)
                .containsExactly(IntStream.concat(IntStream.range(capacity, capacity + 3), IntStream.of(-1, -2))
                        .boxed()
                        .toArray(Integer[]::new));
        assertThat(ch.droppedCount()).isEqualTo(5);
    }

    @ChannelTest
    void failPolicyRefusesTheSendAndDropsNothing(Impl impl, int capacity) {
        Channel<Integer> ch = impl.make(capacity, Overflow.FAIL);
        fill(ch, capacity);
        assertThatThrownBy(() -> ch.send(-1))
                .isInstanceOf(ChannelFullException.class)
                .hasMessageContaining("capacity " + capacity);
        assertThatThrownBy(() -> ch.send(-1, Duration.ofSeconds(1))).isInstanceOf(ChannelFullException.class);
        assertThat(ch.trySend(-1)).isFalse();
        assertThat(ch.droppedCount()).isZero();
        assertThat(ch.size()).isEqualTo(capacity);
    }

    @ChannelTest
    void aThrowingDropCallbackFailsTheSendThatDropped(Impl impl, int capacity) {
        Channel<Integer> ch = impl.make(capacity, Overflow.DROP_NEWEST, x -> {
            throw new IllegalStateException("callback refuses " + x);
        });
        fill(ch, capacity);
        assertThatThrownBy(() -> ch.send(-1)).hasMessage("callback refuses -1");
        assertThat(ch.size()).isEqualTo(capacity);
    }

    // ---------------------------------------------------------------------------------- bad input

    @ChannelTest
    void nullsAreRejectedWithAMessage(Impl impl, int capacity) {
        Channel<Integer> ch = impl.make(capacity);
        assertThatThrownBy(() -> ch.send(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("null");
        assertThatThrownBy(() -> ch.trySend(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> ch.send(null, Duration.ofSeconds(1))).isInstanceOf(NullPointerException.class);
        List<Integer> withNull = new ArrayList<>(List.of(1, 2));
        withNull.add(null);
        assertThatThrownBy(() -> ch.sendAll(withNull)).isInstanceOf(NullPointerException.class);
        assertThat(ch.size()).as("nothing of a batch with a null is sent").isZero();
    }

    @ChannelTest
    void badArgumentsNameTheArgumentAndTheValue(Impl impl, int capacity) {
        Channel<Integer> ch = impl.make(capacity);
        assertThatThrownBy(() -> ch.receive(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("timeout")
                .hasMessageContaining("-0.001");
        assertThatThrownBy(() -> ch.receiveMany(new ArrayList<>(), 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxItems")
                .hasMessageContaining("0");
        assertThatThrownBy(() -> ch.drainTo(new ArrayList<>(), -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxItems");
        assertThatThrownBy(() -> impl.make(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("capacity")
                .hasMessageContaining("0");
    }
}
