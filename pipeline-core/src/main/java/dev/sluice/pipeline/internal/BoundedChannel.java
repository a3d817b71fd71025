package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Channel;
import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.ChannelFailedException;
import dev.sluice.pipeline.ChannelFullException;
import dev.sluice.pipeline.Overflow;
import dev.sluice.pipeline.internal.check.Nanos;
import dev.sluice.pipeline.internal.check.Require;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The fast {@link Channel}: a ring for the items ({@link ItemRing}), one padded state word for the senders, and two
 * {@link WaitQueue}s for whoever has to park.
 *
 * <h2>The state word</h2>
 * {@code state} holds a CLOSED bit and, below it, the number of <i>reservations</i>: every item ever admitted
 * by a sender. A sender reserves with a CAS before it touches the ring; the count before its CAS is its item's
 * index in the ring, and each reservation is followed by exactly one put at that index, which cannot fail for lack
 * of room. The ring's consumer index counts every item ever taken out by receivers. So at any moment
 * <pre>
 *   in flight or buffered = reservations - consumer index
 * </pre>
 * which gives four things at the price of one CAS per send:
 * <ul>
 *   <li><b>Exact capacity.</b> A sender reserves only while that difference is below {@code capacity}; the
 *       ring itself is rounded up to a power of two.</li>
 *   <li><b>The ring's producer index.</b> The ring needs no index of its own for senders, and no second atomic
 *       operation to claim a slot (ADR 0013).</li>
 *   <li><b>A close that loses nothing.</b> {@code close()} sets CLOSED in the same word, so a reservation either
 *       happened before it (and will be delivered: receivers wait for the difference to reach zero, even if the
 *       put is still under way) or fails with {@link ChannelClosedException}.</li>
 *   <li><b>The fence for the wake-up handshake.</b> The CAS is a full fence, so the sender's following read of
 *       the receivers' wait count cannot move before it (see {@link WaitQueue}).</li>
 * </ul>
 * With a single producer the CAS is uncontended, and the word sits on its own cache lines, so it costs a
 * locked instruction on a line the producer already owns.
 *
 * <h2>Failing</h2>
 * {@code ending} is null until the channel fails, then holds the cause. {@code fail()} may fail a closed channel
 * only while an item is left, and "an item is left" depends on the consumer index, which receivers move without
 * touching the state word. So a fail first <i>claims</i> {@code ending} with a {@link Pending} marker (a CAS),
 * then reads the state and the consumer index: closed and drained, it withdraws the claim and returns false;
 * otherwise it sets CLOSED with a CAS on the state word (the moment the channel fails: a racing {@code close()}
 * either came first, and the fail decides again, or finds CLOSED and returns false), then publishes the cause.
 * A receiver reads {@code ending} <i>after</i> taking an item, ordered behind the take (a Dekker handshake with
 * the claim; see Receivers): either the fail saw the item taken, or the receiver sees the claim, waits for the
 * decision (a few instructions away), and on a failure throws instead of returning the item, which the failure
 * abandons anyway.
 * Anyone else who meets a claim (a sender refused by CLOSED, a query) waits for the decision the same way.
 *
 * <h2>Receivers</h2>
 * A receive polls the ring, then reads {@code ending} (a load of a line nobody writes while the channel runs)
 * and, under {@link Overflow#BLOCK}, the senders' wait count. The order of the take before those reads is the
 * receiver's half of each handshake (with a fail's claim, with waiting senders, and under
 * {@link Overflow#DROP_NEWEST} with the drop barrier below). With several receivers the poll claims its item with
 * a compare-and-set of the consumer index, a volatile write that already orders the volatile reads after it; with
 * one receiver the index advances by a release store, and one full fence follows the take. A single receive reads
 * nothing before its poll: on a failed channel it may take an item and then throw, which abandons nothing the
 * failure had not abandoned already. A batch ({@code receiveMany}, {@code drainTo}) reads {@code ending} first, so
 * that a channel failed already puts none of its abandoned items into the caller's collection.
 * Batches ({@link #receiveMany}, {@link #sendAll}) pay these costs once per batch.
 *
 * <h2>Counting drops ({@link Overflow#DROP_NEWEST})</h2>
 * A drop is decided by reading the consumer index ("full"), which receivers move freely, and is counted after,
 * so a count read after the decision could miss it. The count is made linearizable with the decision by
 * tickets: a sender that finds the channel full takes a ticket (an atomic increment, before it decides again),
 * decides, and then, in ticket order, counts its drop (or not, if it found room after all) and passes the turn
 * on. Every other operation on such a channel ends with a <i>drop barrier</i>: it reads the tickets taken and
 * waits until those are all resolved, so whatever it observed (room freed, the channel closed) is never seen
 * before a drop decided earlier has been counted. Without drops in flight the barrier is two loads; the other
 * policies skip it.
 *
 * <h2>Waiting</h2>
 * Before parking, a thread that finds nothing to do tries again a few times (see {@link #backOff(int)}): a
 * hand-off between two running threads is usually over sooner than a park and an unpark. How it waits
 * depends on the thread. A virtual thread <i>yields</i>: its partner is often queued behind it on the same
 * carrier (an unparked virtual thread is scheduled on its waker's carrier), and spinning would only burn the
 * time the partner needs. A platform thread spins with {@link Thread#onSpinWait()}, which pays off when the
 * partner runs on another core. A receiver that sees a reservation whose put has not landed yet spins
 * instead of parking, and a timed receive does not time out on it: that put is a few instructions away,
 * because nothing but our own code runs between a reservation and its put ({@link #sendAll} reads the
 * caller's collection before it reserves).
 */
public final class BoundedChannel<T> extends BoundedChannelPadAfter implements Link<T> {

    /**
     * Yields of a virtual thread before it parks: two let a partner on the same carrier run; more only churn the
     * scheduler when many stages wait, and spinning first (onSpinWait) costs more on virtual threads. Backed by
     * ChainBenchmark, HandOffBenchmark and ThreeStageBenchmark.
     */
    private static final int VIRTUAL_YIELDS_BEFORE_PARK = 2;
    /** Spins of a platform thread before it parks: a few microseconds, less than a park/unpark round trip. */
    private static final int PLATFORM_SPINS_BEFORE_PARK = 128;
    /** While waiting for something a few instructions away, yield the carrier every this many spins. */
    private static final int SPINS_PER_YIELD = ItemRing.SPINS_PER_YIELD;
    /** What {@link #reserve} returns when the channel is full. */
    private static final long FULL = -1L;
    /** What {@link #reserve} returns when the channel is closed (or failed) for sending. */
    private static final long REFUSED = -2L;

    private final ItemRing<T> ring;
    private final int capacity;
    private final Overflow overflow;
    private final boolean block;
    private final boolean dropNewest;
    private final Consumer<? super T> onDrop;
    private final boolean singleConsumer;
    /** Whether a take needs a fence of its own before its handshake reads (see {@link #took}). */
    private final boolean fenceAfterTake;

    private final WaitQueue receivers = new WaitQueue();
    private final WaitQueue senders = new WaitQueue();
    /** null while not failed; a {@link Pending} while a fail() decides; then the cause. Through {@link #ENDING}. */
    private volatile Object ending;
    /** DROP_NEWEST: tickets taken by sends that found the channel full (see the class comment). */
    private final AtomicLong dropTickets = new AtomicLong();
    /** DROP_NEWEST: tickets resolved, in ticket order; written only by the holder of the turn. */
    private volatile long dropsResolved;
    /** Items discarded; written only by the holder of the drop turn. */
    private volatile long dropped;

    private BoundedChannel(int capacity, Overflow overflow, Consumer<? super T> onDrop, ChannelShape shape) {
        this.capacity = capacity;
        this.overflow = overflow;
        this.block = overflow == Overflow.BLOCK;
        this.dropNewest = overflow == Overflow.DROP_NEWEST;
        this.onDrop = onDrop;
        this.singleConsumer = shape.singleConsumer();
        this.ring = RingBuffers.create(shape, capacity);
        this.fenceAfterTake = !ring.pollIsVolatileWrite();
    }

    /**
     * A lock-free channel for the given shape and any policy but DROP_OLDEST (see {@link Link#create}). Callers
     * must keep the shape's promise about concurrent senders and receivers.
     */
    public static <T> BoundedChannel<T> create(
            int capacity, Overflow overflow, Consumer<? super T> onDrop, ChannelShape shape) {
        Link.requireCapacity(capacity);
        Require.nonNull(overflow, "overflow");
        Require.nonNull(shape, "shape");
        Require.argument(
                overflow != Overflow.DROP_OLDEST,
                "overflow",
                "not be DROP_OLDEST, which is not lock-free here (Link.create picks a BlockingQueueChannel for it)",
                overflow);
        return new BoundedChannel<>(capacity, overflow, onDrop, shape);
    }

    // ---------------------------------------------------------------------------------------------- sending

    @Override
    public void send(T item) throws InterruptedException {
        requireItem(item);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        long index = reserve(true);
        if (index >= 0) {
            admit(index, item);
            return;
        }
        if (index == REFUSED) {
            throw closedForSend();
        }
        sendWhenFull(item, 0L, false);
    }

    @Override
    public boolean send(T item, Duration timeout) throws InterruptedException {
        requireItem(item);
        long nanos = timeoutNanos(timeout);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        long index = reserve(true);
        if (index >= 0) {
            admit(index, item);
            return true;
        }
        if (index == REFUSED) {
            throw closedForSend();
        }
        return sendWhenFull(item, System.nanoTime() + nanos, true);
    }

    @Override
    public boolean trySend(T item) {
        requireItem(item);
        long index = reserve(false);
        if (index >= 0) {
            admit(index, item);
            return true;
        }
        if (index == REFUSED) {
            throw closedForSend();
        }
        return switch (overflow) {
            case BLOCK, FAIL -> false;
            case DROP_NEWEST -> dropOrAdmit(item);
            case DROP_OLDEST -> throw new AssertionError("DROP_OLDEST channels are BlockingQueueChannels");
        };
    }

    @Override
    public void sendAll(Collection<? extends T> items) throws InterruptedException {
        Require.nonNull(items, "items");
        // Read the caller's collection once, up front: no code of the caller's may run between a reservation and
        // its put (a reservation never put would stall every receiver).
        Object[] snapshot = items.toArray();
        for (Object item : snapshot) {
            requireItem(item);
        }
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        @SuppressWarnings("unchecked")
        List<? extends T> list = (List<? extends T>) Arrays.asList(snapshot);
        if (sendIndexed(list, 0) < snapshot.length) {
            Thread.interrupted();
            throw new InterruptedException();
        }
    }

    @Override
    public int sendGroup(List<T> group, int from) {
        if (Thread.currentThread().isInterrupted()) {
            return from;
        }
        return sendIndexed(group, from);
    }

    /**
     * Sends a list that nobody else touches meanwhile, by index, so that between a reservation and its put only
     * our code runs. Reserves as many items as there is room for with one CAS. Stops early if interrupted while
     * waiting for room.
     *
     * @return the index after the last item sent: {@code items.size()}, or less with the interrupt flag set
     */
    private int sendIndexed(List<? extends T> items, int from) {
        int n = items.size();
        int next = from;
        while (next < n) {
            long s = (long) STATE.getVolatile(this);
            if ((s & CLOSED) != 0) {
                throw closedForSend();
            }
            long room = room(s, n - next);
            if (room <= 0) {
                // Full: one item through the ordinary slow path (it waits, drops or throws per the policy).
                try {
                    sendWhenFull(items.get(next), 0L, false);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return next;
                }
                next++;
                continue;
            }
            int granted = (int) Math.min(room, n - next);
            if (!STATE.compareAndSet(this, s, s + granted)) {
                ItemRing.afterLostRace();
                continue;
            }
            for (int k = 0; k < granted; k++) {
                ring.put(s + k, items.get(next + k));
            }
            next += granted;
            signalReceiver();
            if (dropNewest) {
                dropBarrier();
            }
        }
        return n;
    }

    /**
     * Reserves room for one item.
     *
     * @param yieldOnLostRace whether a virtual thread that loses the CAS to another sender yields its carrier before
     *     it tries again ({@link ItemRing#afterLostRace()}): on the paths that may wait anyway
     * @return the item's index in the ring, {@link #FULL} if the channel is full, {@link #REFUSED} if it is closed
     *     or failed
     */
    private long reserve(boolean yieldOnLostRace) {
        for (; ; ) {
            long s = (long) STATE.getVolatile(this);
            if ((s & CLOSED) != 0) {
                return REFUSED;
            }
            if (room(s, 1) <= 0) {
                return FULL;
            }
            if (STATE.compareAndSet(this, s, s + 1)) {
                return s;
            }
            if (yieldOnLostRace) {
                ItemRing.afterLostRace(); // another sender reserved first (or a close came)
            }
        }
    }

    /**
     * The room left when {@code s} reservations have been made, refreshed from the ring if the cached view shows
     * less than {@code wanted}. {@code consumedCache} is an under-estimate of the consumer index that senders share
     * without a lock (a slow sender may write an older value back): a stale value can only make the channel look
     * fuller than it is, which the refresh corrects. It is written with release and read with acquire semantics, so
     * a sender admitted on a cached value sees everything the receivers did before they advanced the index that far
     * (the ring relies on it: a freed slot is seen empty).
     */
    private long room(long s, int wanted) {
        long room = capacity - (s - (long) CONSUMED_CACHE.getAcquire(this));
        if (room < wanted) {
            long consumed = ring.consumerIndex();
            CONSUMED_CACHE.setRelease(this, consumed);
            room = capacity - (s - consumed);
        }
        return room;
    }

    /**
     * Completes a send whose reservation succeeded: the item first, then the wake-up, so that a woken receiver
     * finds the item rather than spinning on a reservation still in flight. The read of the receivers' count
     * still follows the reservation's CAS, a full fence: that is the handshake's ordering (see WaitQueue).
     */
    private void admit(long index, T item) {
        ring.put(index, item);
        signalReceiver();
        if (dropNewest) {
            dropBarrier();
        }
    }

    private void signalReceiver() {
        if (receivers.count() != 0) {
            wakeReceiver();
        }
    }

    private void wakeReceiver() {
        if (ChannelProbe.ENABLED) {
            ChannelProbe.receiverWoken();
        }
        receivers.signalOne();
    }

    private void wakeSender() {
        if (ChannelProbe.ENABLED) {
            ChannelProbe.senderWoken();
        }
        senders.signalOne();
    }

    /** The slow path of a send that found the channel full. */
    private boolean sendWhenFull(T item, long deadline, boolean timed) throws InterruptedException {
        switch (overflow) {
            case FAIL -> throw new ChannelFullException(capacity);
            case DROP_NEWEST -> {
                return dropOrAdmit(item);
            }
            case DROP_OLDEST -> throw new AssertionError("DROP_OLDEST channels are BlockingQueueChannels");
            case BLOCK -> {
                return awaitRoomThenSend(item, deadline, timed);
            }
        }
        throw new AssertionError(overflow);
    }

    /**
     * DROP_NEWEST, and the channel looked full: takes a ticket, decides again, and in ticket order counts the drop
     * (or not, if room appeared) and passes the turn on (see the class comment).
     *
     * @return whether the item was sent after all
     */
    private boolean dropOrAdmit(T item) {
        // The ticket's increment is a full fence: the decision's reads below come after it, so an operation whose
        // barrier misses this ticket cannot have observed anything this decision depends on.
        long ticket = dropTickets.getAndIncrement();
        long index = reserve(false); // holding a ticket: never let the carrier go, others wait for this turn
        if (index >= 0) {
            ring.put(index, item); // before waiting for the turn, so that no receiver spins on it meanwhile
        }
        int spins = 0;
        while (dropsResolved != ticket) {
            spinOrYield(++spins);
        }
        if (index == FULL) {
            dropped = dropped + 1; // the turn is ours: no other writer
        }
        dropsResolved = ticket + 1;
        if (index >= 0) {
            signalReceiver();
            dropBarrier();
            return true;
        }
        if (index == REFUSED) {
            throw closedForSend();
        }
        if (onDrop != null) {
            onDrop.accept(item);
        }
        return false;
    }

    /**
     * DROP_NEWEST: waits until every drop decided before the caller's observations has been counted. Called after
     * those observations, which are volatile accesses (a CAS, a take, a volatile read), so the barrier's volatile
     * reads below come after them in the synchronization order.
     */
    private void dropBarrier() {
        long taken = dropTickets.get();
        if (dropsResolved - taken >= 0) {
            return;
        }
        int spins = 0;
        while (dropsResolved - taken < 0) {
            spinOrYield(++spins);
        }
    }

    private boolean awaitRoomThenSend(T item, long deadline, boolean timed) throws InterruptedException {
        boolean signalled = false;
        int attempts = 0;
        for (; ; ) {
            long index = reserve(true);
            if (index >= 0) {
                if (signalled) {
                    passOnSenderSignal();
                }
                admit(index, item);
                return true;
            }
            if (index == REFUSED) {
                throw closedForSend();
            }
            if (backOff(attempts++)) {
                continue;
            }
            long nanos = 0L;
            if (timed) {
                nanos = deadline - System.nanoTime();
                if (nanos <= 0L) {
                    if (signalled) {
                        passOnSenderSignal();
                    }
                    return false;
                }
            }
            signalled |= parkOnce(senders, timed, nanos);
            if (Thread.interrupted()) {
                if (signalled) {
                    passOnSenderSignal();
                }
                throw new InterruptedException();
            }
        }
    }

    /**
     * Registers the calling thread on {@code queue} (senders or receivers), re-checks, and parks unless the
     * re-check finds its condition met. The re-check is the waiter's half of the handshake (see WaitQueue): a
     * receiver that freed room before the registration was visible to it has advanced the consumer index; a
     * sender that reserved before it has raised the reservation count; both are read by the re-check.
     *
     * @return whether a signal was spent on this thread (it must pass the signal on if it does not use it)
     */
    private boolean parkOnce(WaitQueue queue, boolean timed, long nanos) {
        WaitQueue.Waiter waiter = queue.enqueue();
        boolean ready = queue == receivers ? hasItemOrEnded() : hasRoomOrClosed();
        if (!ready) {
            if (ChannelProbe.ENABLED) {
                if (queue == receivers) {
                    ChannelProbe.receiverParked();
                } else {
                    ChannelProbe.senderParked();
                }
            }
            if (timed) {
                LockSupport.parkNanos(this, nanos);
            } else {
                LockSupport.park(this);
            }
        }
        return !queue.remove(waiter);
    }

    /**
     * One more try before parking, or none: a virtual thread yields its carrier (letting a partner queued behind
     * it run), a platform thread spins.
     *
     * @return {@code false} once it is time to park
     */
    private static boolean backOff(int attempt) {
        if (Thread.currentThread().isVirtual()) {
            if (attempt < VIRTUAL_YIELDS_BEFORE_PARK) {
                if (ChannelProbe.ENABLED) {
                    ChannelProbe.yielded();
                }
                Thread.yield();
                return true;
            }
            return false;
        }
        if (attempt < PLATFORM_SPINS_BEFORE_PARK) {
            Thread.onSpinWait();
            return true;
        }
        return false;
    }

    /** Waiting for another thread's next few instructions: spin, and now and then let the carrier go. */
    private static void spinOrYield(int spins) {
        ItemRing.spinOrYield(spins);
    }

    private boolean hasRoomOrClosed() {
        long s = (long) STATE.getVolatile(this);
        return (s & CLOSED) != 0 || s - ring.consumerIndex() < capacity;
    }

    /** A sender woken for room it did not use hands the wake-up to the next sender, if there is room. */
    private void passOnSenderSignal() {
        if (senders.count() != 0 && hasRoomOrClosed()) {
            wakeSender();
        }
    }

    // -------------------------------------------------------------------------------------------- receiving

    @Override
    public T receive() throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        T item = ring.poll(true);
        if (item != null) {
            return took(item, true);
        }
        return awaitItem(0L, false, false);
    }

    @Override
    public T receive(Duration timeout) throws InterruptedException {
        long nanos = timeoutNanos(timeout);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        return awaitItem(System.nanoTime() + nanos, true, false);
    }

    @Override
    public T tryReceive() {
        T item = pollLanded();
        if (item != null) {
            return took(item, true);
        }
        // Empty (pollLanded waited out any put under way). Distinguish "empty for now" from "closed and drained"
        // and from "failed": a CLOSED seen here may be a fail's, whose decision failureNow() waits for.
        long s = (long) STATE.getVolatile(this);
        if ((s & CLOSED) != 0) {
            Throwable f = failureNow();
            if (f != null) {
                throw failedNow(f);
            }
            if ((s & ~CLOSED) - ring.consumerIndex() <= 0) {
                if (dropNewest) {
                    dropBarrier();
                }
                throw closedForReceive();
            }
        }
        if (dropNewest) {
            dropBarrier();
        }
        return null;
    }

    /**
     * Polls; if the ring looks empty while a reservation is still being put, waits for that put to land
     * (it is a few instructions away) rather than report an item that was already sent as missing. Without this,
     * a try-receive that followed a completed close could miss a send that the close had already admitted.
     */
    private T pollLanded() {
        T item = ring.poll(false);
        if (item != null) {
            return item;
        }
        int spins = 0;
        while (((long) STATE.getVolatile(this) & ~CLOSED) - ring.consumerIndex() > 0) {
            item = ring.poll(false);
            if (item != null) {
                return item;
            }
            spinOrYield(++spins);
        }
        return null;
    }

    /**
     * After taking one item out of the ring: the consumer-index advance of the poll is ordered before the reads that
     * follow, the receiver's half of three handshakes: the read of {@code ending} (a fail that did not see this item
     * taken is seen here, and the item is not returned: the failure abandons it), the read of the senders' wait
     * count (see WaitQueue), and the drop barrier. A ring whose poll advances with a compare-and-set already orders
     * it so (those reads are volatile: {@link ItemRing#pollIsVolatileWrite()}); after a ring's release store, one
     * full fence does.
     *
     * @param signalRoom whether to wake a sender waiting for room (a batch does it once, at its end)
     * @throws ChannelFailedException if the channel has failed
     */
    private T took(T item, boolean signalRoom) {
        if (fenceAfterTake) {
            VarHandle.fullFence();
        }
        if (ending != null) {
            Throwable f = failureNow();
            if (f != null) {
                throw failedNow(f);
            }
        }
        if (signalRoom && block && senders.count() != 0) {
            wakeSender();
        }
        if (dropNewest) {
            dropBarrier();
        }
        return item;
    }

    /** {@link #took} for a batch: after the last item was taken, whether or not the batch is returned. */
    private void tookBatch(boolean checkFailure) {
        if (fenceAfterTake) {
            VarHandle.fullFence();
        }
        if (block && senders.count() != 0) {
            wakeSender();
        }
        if (checkFailure && ending != null) {
            Throwable f = failureNow();
            if (f != null) {
                throw failedNow(f);
            }
        }
        if (dropNewest) {
            dropBarrier();
        }
    }

    @Override
    public int receiveMany(Collection<? super T> target, int maxItems) throws InterruptedException {
        Require.nonNull(target, "target");
        Require.atLeast(maxItems, 1, "maxItems");
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        refuseIfFailed(); // its buffered items are abandoned: none may reach the target
        T first = ring.poll(true);
        if (first == null) {
            first = awaitItem(0L, false, true);
        }
        return moveInto(target, first, maxItems);
    }

    @Override
    public int drainTo(Collection<? super T> target, int maxItems) {
        Require.nonNull(target, "target");
        Require.notNegative(maxItems, "maxItems");
        refuseIfFailed(); // its buffered items are abandoned: none may reach the target
        if (maxItems == 0) {
            return 0;
        }
        T first = pollLanded();
        if (first == null) {
            Throwable f = failureNow();
            if (f != null) {
                throw failedNow(f);
            }
            if (dropNewest) {
                dropBarrier();
            }
            return 0;
        }
        return moveInto(target, first, maxItems);
    }

    /** Throws the failure of a channel failed already; one read of the ending while it is open. */
    private void refuseIfFailed() {
        if (ending != null) {
            Throwable f = failureNow();
            if (f != null) {
                throw failedNow(f);
            }
        }
    }

    /**
     * Adds {@code first}, already taken, then what else is buffered, up to {@code maxItems} in all. Room freed is
     * signalled even if {@code target.add} throws; a failure of the channel is reported (after the items taken
     * have been added) only if the batch would otherwise return.
     */
    private int moveInto(Collection<? super T> target, T first, int maxItems) {
        int n;
        boolean added = false;
        try {
            target.add(first);
            n = 1 + pollInto(target, maxItems - 1);
            added = true;
        } finally {
            tookBatch(added);
        }
        return n;
    }

    private int pollInto(Collection<? super T> target, int maxItems) {
        int n = 0;
        while (n < maxItems) {
            T item = ring.poll(false); // the rest of a batch: the senders wait for its end to be woken
            if (item == null) {
                break;
            }
            target.add(item);
            n++;
        }
        return n;
    }

    /**
     * The slow path of every receive: waits for an item, the end, a failure, the deadline or an interrupt.
     * With {@code leaveRoomSignal}, the caller signals freed room itself after taking more items.
     *
     * @return the item, or {@code null} if {@code timed} and the deadline passed while the channel was empty
     */
    private T awaitItem(long deadline, boolean timed, boolean leaveRoomSignal) throws InterruptedException {
        boolean signalled = false;
        int attempts = 0;
        int inFlightSpins = 0;
        for (; ; ) {
            T item = ring.poll(true);
            if (item != null) {
                if (signalled) {
                    passOnReceiverSignal();
                }
                return took(item, !leaveRoomSignal);
            }
            long s = (long) STATE.getVolatile(this);
            long pending = (s & ~CLOSED) - ring.consumerIndex();
            if (pending > 0) {
                // A reservation whose put has not landed yet (or, with several receivers, items another
                // receiver may take first): it is a few instructions away, so spin rather than park, and never
                // time out on it: that item was sent.
                if (++inFlightSpins % SPINS_PER_YIELD == 0) {
                    if (Thread.interrupted()) {
                        if (signalled) {
                            passOnReceiverSignal();
                        }
                        throw new InterruptedException();
                    }
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
                continue;
            }
            if ((s & CLOSED) != 0) {
                // Closed and drained, or failed (a fail sets CLOSED; failureNow() waits for its decision).
                if (signalled) {
                    passOnReceiverSignal();
                }
                Throwable f = failureNow();
                if (f != null) {
                    throw failedNow(f);
                }
                if (dropNewest) {
                    dropBarrier();
                }
                throw closedForReceive();
            }
            // Empty and open.
            if (timed && deadline - System.nanoTime() <= 0L) {
                if (signalled) {
                    passOnReceiverSignal();
                }
                if (dropNewest) {
                    dropBarrier();
                }
                return null;
            }
            if (backOff(attempts++)) {
                continue;
            }
            long nanos = timed ? Math.max(1L, deadline - System.nanoTime()) : 0L;
            signalled |= parkOnce(receivers, timed, nanos);
            if (Thread.interrupted()) {
                if (signalled) {
                    passOnReceiverSignal();
                }
                throw new InterruptedException();
            }
        }
    }

    private boolean hasItemOrEnded() {
        long s = (long) STATE.getVolatile(this);
        return (s & CLOSED) != 0 || s - ring.consumerIndex() > 0;
    }

    /** A receiver woken for an item it did not need hands the wake-up on while items remain. */
    private void passOnReceiverSignal() {
        if (!singleConsumer && receivers.count() != 0 && hasItemOrEnded()) {
            wakeReceiver();
        }
    }

    // ------------------------------------------------------------------------------------------------ ending

    @Override
    public boolean close() {
        for (; ; ) {
            long s = (long) STATE.getVolatile(this);
            if ((s & CLOSED) != 0) {
                if (dropNewest) {
                    dropBarrier();
                }
                return false;
            }
            if (STATE.compareAndSet(this, s, s | CLOSED)) {
                break;
            }
        }
        receivers.signalAll();
        senders.signalAll();
        if (dropNewest) {
            dropBarrier();
        }
        return true;
    }

    @Override
    public boolean fail(Throwable cause) {
        Require.nonNull(cause, "cause");
        Pending claim = new Pending();
        for (; ; ) {
            Object e = ending;
            if (e == null) {
                if (ENDING.compareAndSet(this, null, claim)) {
                    break;
                }
            } else if (e instanceof Pending) {
                awaitFailureDecided(); // another fail is deciding; then try again
            } else {
                if (dropNewest) {
                    dropBarrier();
                }
                return false; // failed already
            }
        }
        // The claim's CAS is a full fence: the reads below come after it. A receiver that took an item reads
        // `ending` after its take, ordered behind it (the poll's CAS, or the fence after a single receiver's take):
        // either the consumer index read here shows the take, or that receiver sees the claim and waits for this
        // decision.
        for (; ; ) {
            long s = (long) STATE.getVolatile(this);
            if ((s & CLOSED) != 0 && (s & ~CLOSED) - ring.consumerIndex() <= 0) {
                ENDING.setRelease(this, null); // closed and drained: nothing is left to fail
                if (dropNewest) {
                    dropBarrier();
                }
                return false;
            }
            // The moment the channel fails. A close() that came first changed the word: decide again.
            if (STATE.compareAndSet(this, s, s | CLOSED)) {
                break;
            }
        }
        ending = cause;
        receivers.signalAll();
        senders.signalAll();
        if (dropNewest) {
            dropBarrier();
        }
        return true;
    }

    /** The cause once the channel has failed, else null; waits out a fail() that is deciding. */
    private Throwable failureNow() {
        Object e = ending;
        if (e == null) {
            return null;
        }
        if (e instanceof Pending) {
            return awaitFailureDecided();
        }
        return (Throwable) e;
    }

    /** Waits for a claiming fail() to decide (a few instructions away); the cause, or null if it withdrew. */
    private Throwable awaitFailureDecided() {
        int spins = 0;
        Object e;
        while ((e = ending) instanceof Pending) {
            spinOrYield(++spins);
        }
        return (Throwable) e;
    }

    @Override
    public boolean isClosedForSend() {
        boolean closed = ((long) STATE.getVolatile(this) & CLOSED) != 0;
        if (dropNewest) {
            dropBarrier();
        }
        return closed;
    }

    @Override
    public boolean isClosedForReceive() {
        long s = (long) STATE.getVolatile(this);
        boolean over = (s & CLOSED) != 0 && (failureNow() != null || (s & ~CLOSED) - ring.consumerIndex() <= 0);
        if (dropNewest) {
            dropBarrier();
        }
        return over;
    }

    @Override
    public Optional<Throwable> failure() {
        Throwable f = failureNow();
        if (dropNewest) {
            dropBarrier();
        }
        return Optional.ofNullable(f);
    }

    @Override
    public int size() {
        long buffered = ((long) STATE.getVolatile(this) & ~CLOSED) - ring.consumerIndex();
        if (dropNewest) {
            dropBarrier();
        }
        return (int) Math.max(0L, Math.min(capacity, buffered));
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public Overflow overflow() {
        return overflow;
    }

    @Override
    public long droppedCount() {
        return dropped;
    }

    @Override
    public boolean hasWaitingReceivers() {
        return receivers.count() != 0;
    }

    @Override
    public String toString() {
        String end = ending instanceof Throwable ? ", failed" : isClosedForSend() ? ", closed" : "";
        return "BoundedChannel[capacity=" + capacity + ", size=" + size() + ", overflow=" + overflow + end + "]";
    }

    // ---------------------------------------------------------------------------------------------- helpers

    /** A fail() that has claimed {@link #ending} and is deciding whether the channel can still fail. */
    private static final class Pending {}

    /** Why a send was refused: the failure, or the close (waits out a deciding fail()). */
    private ChannelClosedException closedForSend() {
        Throwable f = failureNow();
        if (dropNewest) {
            dropBarrier();
        }
        return f != null ? new ChannelFailedException(f) : new ChannelClosedException("channel is closed for sending");
    }

    private ChannelFailedException failedNow(Throwable cause) {
        if (dropNewest) {
            dropBarrier();
        }
        return new ChannelFailedException(cause);
    }

    private static ChannelClosedException closedForReceive() {
        return new ChannelClosedException("channel is closed and drained");
    }

    static void requireItem(Object item) {
        if (item == null) {
            throw new NullPointerException("item must not be null: channels do not carry nulls");
        }
    }

    static long timeoutNanos(Duration timeout) {
        Require.notNegative(timeout, "timeout");
        return Nanos.saturated(timeout);
    }

    private static final VarHandle STATE;
    private static final VarHandle CONSUMED_CACHE;
    private static final VarHandle ENDING;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            STATE = lookup.findVarHandle(BoundedChannelState.class, "state", long.class);
            CONSUMED_CACHE = lookup.findVarHandle(BoundedChannelState.class, "consumedCache", long.class);
            ENDING = lookup.findVarHandle(BoundedChannel.class, "ending", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}

/** Cache-line padding before the senders' hot fields, so receivers' fields never share their line. */
abstract class BoundedChannelPadBefore {
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/** The senders' hot fields: written by every send (state) or by senders that refresh their view (cache). */
abstract class BoundedChannelState extends BoundedChannelPadBefore {
    /** Bit 62 of {@link #state}: the channel is closed (or failed) for sending. */
    static final long CLOSED = 1L << 62;

    /** CLOSED bit | number of reservations ever made. Accessed through a VarHandle (volatile, CAS). */
    volatile long state;

    /**
     * Senders' last view of the ring's consumer index; release/acquire through a VarHandle, racy by design (see
     * room).
     */
    long consumedCache;
}

/** Padding after the senders' hot fields. */
abstract class BoundedChannelPadAfter extends BoundedChannelState {
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
}
