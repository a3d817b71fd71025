package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.BlockingQueueChannel;
import dev.sluice.pipeline.internal.ChannelShape;
import dev.sluice.pipeline.internal.Link;
import java.time.Duration;
import java.util.Collection;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A bounded, closable queue that blocking code waits on: the link between two stages of a pipeline, and a
 * building block in its own right.
 *
 * <h2>Capacity and overflow</h2>
 * A channel holds at most {@link #capacity()} items, exactly. What a send does when the channel is full is the
 * channel's {@link Overflow} policy, fixed at creation: {@link Overflow#BLOCK} waits for room (the default),
 * {@link Overflow#DROP_OLDEST} and {@link Overflow#DROP_NEWEST} discard an item (counted in
 * {@link #droppedCount()} and passed to the drop callback, if any), {@link Overflow#FAIL} throws
 * {@link ChannelFullException}. Only {@code BLOCK} ever makes a sender wait. Sending and receiving take no lock
 * (a thread that has to wait registers in a lock-guarded list of waiters), except under {@code DROP_OLDEST}, where
 * a send takes the oldest item out and puts the new one in under a lock, as one step.
 *
 * <h2>Ending</h2>
 * <ul>
 *   <li>{@link #close()} is graceful: later sends throw {@link ChannelClosedException}; receivers still get every
 *       item already sent, then see the end ({@code receive} throws {@code ChannelClosedException}, iteration
 *       stops). Senders waiting for room when the channel closes throw {@code ChannelClosedException}.</li>
 *   <li>{@link #fail(Throwable)} is abortive: from then on every send and every receive, including those already
 *       waiting, throws {@link ChannelFailedException} carrying the cause; buffered items are abandoned.
 *       A closed channel can still be failed until its last item has been received.</li>
 * </ul>
 *
 * <h2>Waiting and interruption</h2>
 * Waiting threads park ({@link java.util.concurrent.locks.LockSupport}); no method holds a monitor, so virtual
 * threads never pin a carrier here. Every method that may wait throws {@link InterruptedException} if the
 * calling thread is interrupted on entry or while waiting, and then has had no effect: the item was not sent,
 * or no item was taken ({@link #sendAll} may have sent a prefix; see there). The methods that never wait
 * ({@code trySend}, {@code tryReceive}, {@code drainTo}) never park, but may spin for the few instructions it
 * takes a send already admitted to land its item. Interruption is how a {@link Scope} or a pipeline cancels the threads blocked on a
 * channel.
 *
 * <h2>Threads</h2>
 * Any number of threads may send and receive concurrently on a channel returned by the factories here.
 * Each item is received once. Items sent by one thread are received in the order that thread sent them.
 * Memory consistency: actions in a thread before sending an item <i>happen-before</i> actions after that item
 * is received in another thread.
 *
 * <p>Nulls are rejected with {@link NullPointerException}.
 *
 * @param <T> the type of the items
 * @since 0.1
 */
public interface Channel<T> extends Iterable<T> {

    /**
     * A channel with the given exact capacity that waits for room when full ({@link Overflow#BLOCK}).
     *
     * @param <T> the type of the items
     * @param capacity the most items the channel buffers, exactly (not rounded up)
     * @return a new, open, empty channel, safe for any number of senders and receivers
     * @throws IllegalArgumentException if {@code capacity} is not between 1 and 2^30
     */
    static <T> Channel<T> bounded(int capacity) {
        return bounded(capacity, Overflow.BLOCK, null);
    }

    /**
     * A channel with the given exact capacity and overflow policy.
     *
     * @param <T> the type of the items
     * @param capacity the most items the channel buffers, exactly (not rounded up)
     * @param overflow what a send does when the channel is full
     * @return a new, open, empty channel, safe for any number of senders and receivers
     * @throws IllegalArgumentException if {@code capacity} is not between 1 and 2^30
     * @throws NullPointerException if {@code overflow} is null
     */
    static <T> Channel<T> bounded(int capacity, Overflow overflow) {
        return bounded(capacity, overflow, null);
    }

    /**
     * A channel with the given exact capacity, overflow policy and drop callback. The callback runs on the
     * sending thread, once for each item the policy discards, before the send returns; an exception it throws
     * propagates from the send, and the incoming item is then not enqueued.
     *
     * @param <T> the type of the items
     * @param capacity the most items the channel buffers, exactly (not rounded up)
     * @param overflow what a send does when the channel is full
     * @param onDrop called with each discarded item, or {@code null} to only count them
     * @return a new, open, empty channel, safe for any number of senders and receivers
     * @throws IllegalArgumentException if {@code capacity} is not between 1 and 2^30
     * @throws NullPointerException if {@code overflow} is null
     */
    static <T> Channel<T> bounded(int capacity, Overflow overflow, @Nullable Consumer<? super T> onDrop) {
        return Link.create(capacity, overflow, onDrop, ChannelShape.MPMC);
    }

    /**
     * The reference implementation: the same contract as {@link #bounded(int, Overflow, Consumer)}, built on a
     * lock and an {@link java.util.concurrent.ArrayBlockingQueue}. Slower under contention; useful as a
     * baseline and as an oracle in tests.
     *
     * @param <T> the type of the items
     * @param capacity the most items the channel buffers
     * @param overflow what a send does when the channel is full
     * @param onDrop called with each discarded item, or {@code null} to only count them
     * @return a new, open, empty channel
     * @throws IllegalArgumentException if {@code capacity} is not between 1 and 2^30
     * @throws NullPointerException if {@code overflow} is null
     */
    static <T> Channel<T> backedByBlockingQueue(int capacity, Overflow overflow, @Nullable Consumer<? super T> onDrop) {
        return new BlockingQueueChannel<>(capacity, overflow, onDrop);
    }

    /**
     * Sends an item, waiting while the channel is full if the policy is {@link Overflow#BLOCK}. Under the other
     * policies it never waits: a drop policy may discard an item, {@link Overflow#FAIL} throws.
     *
     * @param item the item; under {@link Overflow#DROP_NEWEST} it may be the one discarded
     * @throws ChannelClosedException if the channel is closed or failed (before or while waiting)
     * @throws ChannelFullException if the channel is full and its policy is {@link Overflow#FAIL}
     * @throws InterruptedException if interrupted on entry or while waiting; the item was not sent
     */
    void send(T item) throws InterruptedException;

    /**
     * Sends an item, waiting at most {@code timeout} for room under {@link Overflow#BLOCK}.
     *
     * @param item the item to send
     * @param timeout the longest to wait for room; ignored by the policies that never wait
     * @return {@code true} if the item was enqueued; {@code false} if the wait timed out, or if
     *     {@link Overflow#DROP_NEWEST} discarded it
     * @throws ChannelClosedException if the channel is closed or failed
     * @throws ChannelFullException if the channel is full and its policy is {@link Overflow#FAIL}
     * @throws InterruptedException if interrupted on entry or while waiting; the item was not sent
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    boolean send(T item, Duration timeout) throws InterruptedException;

    /**
     * Sends an item if that needs no waiting. A full channel returns {@code false} under {@link Overflow#BLOCK}
     * and {@link Overflow#FAIL}, drops the item and returns {@code false} under {@link Overflow#DROP_NEWEST},
     * and discards its oldest item under {@link Overflow#DROP_OLDEST}.
     *
     * @param item the item to send
     * @return {@code true} if the item was enqueued
     * @throws ChannelClosedException if the channel is closed or failed
     */
    boolean trySend(T item);

    /**
     * Sends every item in iteration order, each as {@link #send(Object)} would, waking receivers once per
     * group of items rather than once per item. The collection is read once, at the start (a snapshot), so it may
     * change meanwhile without effect. If it throws, a prefix of {@code items} has been sent; with an
     * {@code InterruptedException} or {@code ChannelClosedException}, the rest was not.
     *
     * @param items the items to send, in iteration order
     * @throws ChannelClosedException if the channel is closed or failed (before or while waiting)
     * @throws ChannelFullException if the channel is full and its policy is {@link Overflow#FAIL}
     * @throws InterruptedException if interrupted on entry or while waiting; the items from that one on were not
     *     sent
     * @throws NullPointerException if {@code items} or any of its elements is null (checked before any is sent)
     */
    void sendAll(Collection<? extends T> items) throws InterruptedException;

    /**
     * Takes the next item, waiting while the channel is empty.
     *
     * @return the oldest buffered item
     * @throws ChannelClosedException once the channel is closed and every item sent has been received
     * @throws ChannelFailedException if the channel is failed, at once, even if items are buffered
     * @throws InterruptedException if interrupted on entry or while waiting; no item was taken
     */
    T receive() throws InterruptedException;

    /**
     * Takes the next item, waiting at most {@code timeout} while the channel is empty. Even with a zero timeout,
     * it does not give up on an item a send has already admitted but not yet finished putting in (a few
     * instructions away): after a send has returned, a receive that starts later never reports the channel empty
     * while that item is in it. The same holds for {@link #tryReceive()}.
     *
     * @param timeout the longest to wait for an item
     * @return the item, or {@code null} if none arrived in time
     * @throws ChannelClosedException once the channel is closed and drained
     * @throws ChannelFailedException if the channel is failed
     * @throws InterruptedException if interrupted on entry or while waiting; no item was taken
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    @Nullable
    T receive(Duration timeout) throws InterruptedException;

    /**
     * Takes the next item if one is there, without waiting.
     *
     * @return the item, or {@code null} if the channel is empty (and not yet drained after a close)
     * @throws ChannelClosedException once the channel is closed and drained
     * @throws ChannelFailedException if the channel is failed
     */
    @Nullable
    T tryReceive();

    /**
     * Waits until at least one item is available, then moves up to {@code maxItems} of those already buffered
     * into {@code target}, in order, without waiting for more. One call amortises the wake-up and the memory
     * fences over the whole group.
     *
     * <p>Not atomic: the group is taken item by item, as a run of receives that other senders and receivers may
     * interleave with, so it may hold fewer items than the channel held at any one moment (never an item twice;
     * each sender's items in its order). If the channel fails meanwhile, this throws
     * {@link ChannelFailedException}, and the items already added to {@code target} stay there.
     *
     * @param target where the items are added, in the order received
     * @param maxItems the most items to move
     * @return the number of items added, at least 1
     * @throws ChannelClosedException once the channel is closed and drained
     * @throws ChannelFailedException if the channel is failed
     * @throws InterruptedException if interrupted on entry or while waiting; no item was taken
     * @throws IllegalArgumentException if {@code maxItems < 1}
     */
    int receiveMany(Collection<? super T> target, int maxItems) throws InterruptedException;

    /**
     * Moves up to {@code maxItems} buffered items into {@code target} without waiting, like
     * {@link java.util.concurrent.BlockingQueue#drainTo(Collection, int)}. Not atomic, like
     * {@link #receiveMany}: a run of {@link #tryReceive()}s that other operations may interleave with.
     *
     * @param target where the items are added, in the order received
     * @param maxItems the most items to move; 0 moves none
     * @return the number of items added; 0 if the channel is empty or drained
     * @throws ChannelFailedException if the channel is failed
     * @throws IllegalArgumentException if {@code maxItems < 0}
     */
    int drainTo(Collection<? super T> target, int maxItems);

    /**
     * Closes the channel gracefully: no more sends; buffered items are still delivered. Wakes every waiting
     * sender (which then throws) and receiver. Idempotent; never waits.
     *
     * <p>A {@code close()} and a {@link #fail(Throwable)} that race are ordered like any two operations: if the
     * fail comes first, the close returns {@code false}; if the close comes first, the fail wins too only while
     * items are left in the channel for it to abandon. On a channel holding nothing, exactly one of them wins.
     *
     * @return {@code true} if this call closed the channel, {@code false} if it was already closed or failed
     */
    boolean close();

    /**
     * Fails the channel: from now on every send and receive throws {@link ChannelFailedException} with
     * {@code cause}, and buffered items are abandoned. Wakes every waiting thread. Never waits.
     *
     * @param cause why the channel failed; every later operation throws a {@link ChannelFailedException} with it
     * @return {@code true} if this call failed the channel; {@code false} if it was already failed, or closed
     *     and fully drained
     * @throws NullPointerException if {@code cause} is null
     */
    boolean fail(Throwable cause);

    /**
     * Whether sends are refused: the channel is closed or failed.
     *
     * @return {@code true} once {@link #close()} or {@link #fail(Throwable)} has taken effect; never false again
     */
    boolean isClosedForSend();

    /**
     * Whether receives are over: the channel is failed, or closed and every item has been received.
     *
     * @return {@code true} once every receive would throw; never false again
     */
    boolean isClosedForReceive();

    /**
     * The cause given to {@link #fail(Throwable)}, if the channel has failed.
     *
     * @return the failure's cause; empty while the channel is open or was only closed
     */
    Optional<Throwable> failure();

    /**
     * The number of buffered items (a moment's snapshot under concurrency), between 0 and {@link #capacity()}.
     *
     * @return the items sent and not yet received
     */
    int size();

    /**
     * The exact number of items the channel can hold.
     *
     * @return the capacity given at creation
     */
    int capacity();

    /**
     * The overflow policy chosen at creation.
     *
     * @return what a send does when the channel is full
     */
    Overflow overflow();

    /**
     * How many items the overflow policy has discarded so far. A drop counts from the moment the send decided it:
     * any operation that saw the channel after that decision (a receive that freed room, a close) is followed by
     * a count that includes it, even if the dropping send has not returned yet.
     *
     * @return the total of items discarded since creation; always 0 under {@link Overflow#BLOCK} and
     *     {@link Overflow#FAIL}
     */
    long droppedCount();

    /**
     * An iterator that {@linkplain #receive() receives} items until the channel is closed and drained.
     * {@code hasNext()} waits for an item. If the channel fails, {@code hasNext()} throws the
     * {@link ChannelFailedException}. If the iterating thread is interrupted while waiting, the interrupt flag is
     * restored and {@code hasNext()} throws {@link CancellationException} (an iterator cannot throw
     * {@code InterruptedException}). Each iterator takes items from the shared channel: two iterators, or an
     * iterator and other receivers, split the items between them.
     *
     * @return a new iterator over the items still to be received; {@code remove()} is not supported
     */
    @Override
    default Iterator<T> iterator() {
        return new Iterator<>() {
            private T next;
            private boolean done;

            @Override
            public boolean hasNext() {
                if (next != null) {
                    return true;
                }
                if (done) {
                    return false;
                }
                try {
                    next = receive();
                    return true;
                } catch (ChannelFailedException e) {
                    throw e; // and again at every later call: a failed channel never reads as drained
                } catch (ChannelClosedException e) {
                    done = true;
                    return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    CancellationException cancelled =
                            new CancellationException("interrupted while waiting for the next item");
                    cancelled.initCause(e);
                    throw cancelled;
                }
            }

            @Override
            public T next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("channel is closed and drained");
                }
                T item = next;
                next = null;
                return item;
            }
        };
    }
}
