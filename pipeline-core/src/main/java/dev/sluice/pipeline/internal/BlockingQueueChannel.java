package dev.sluice.pipeline.internal;

import static dev.sluice.pipeline.internal.BoundedChannel.requireItem;
import static dev.sluice.pipeline.internal.BoundedChannel.timeoutNanos;

import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.ChannelFailedException;
import dev.sluice.pipeline.ChannelFullException;
import dev.sluice.pipeline.Overflow;
import dev.sluice.pipeline.internal.check.Require;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The reference {@link Channel}: every operation under one lock, items in an {@link ArrayBlockingQueue}, waiting
 * on two conditions. Obviously correct rather than fast; the fast channel is tested against the same contract
 * and benchmarked against it.
 *
 * <p>The queue's own lock is redundant here (uncontended, since ours is always held); the point is to be the
 * {@code BlockingQueue}-backed channel that users compare with.
 */
public final class BlockingQueueChannel<T> implements Link<T> {

    /** What {@link #sendLocked} returns for an item enqueued with nothing discarded. */
    private static final Object ENQUEUED = new Object();
    /** What {@link #sendLocked} returns when a timed wait ran out. */
    private static final Object NOT_SENT = new Object();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private final ArrayBlockingQueue<T> items;
    private final int capacity;
    private final Overflow overflow;
    private final Consumer<? super T> onDrop;
    // Guarded by lock; volatile only so that the read-only queries need not take it.
    private volatile boolean closed;
    private volatile Throwable failure;
    private volatile long dropped;
    private volatile int waitingReceivers;

    public BlockingQueueChannel(int capacity, Overflow overflow, Consumer<? super T> onDrop) {
        Link.requireCapacity(capacity); // the same limits as the channels it is the reference for
        this.capacity = capacity;
        this.overflow = Require.nonNull(overflow, "overflow");
        this.onDrop = onDrop;
        this.items = new ArrayBlockingQueue<>(capacity);
    }

    @Override
    public void send(T item) throws InterruptedException {
        requireItem(item);
        Object outcome;
        lock.lockInterruptibly();
        try {
            outcome = sendLocked(item, 0L, false);
        } finally {
            lock.unlock();
        }
        settle(outcome);
    }

    @Override
    public boolean send(T item, Duration timeout) throws InterruptedException {
        requireItem(item);
        long nanos = timeoutNanos(timeout);
        Object outcome;
        lock.lockInterruptibly();
        try {
            outcome = sendLocked(item, nanos, true);
        } finally {
            lock.unlock();
        }
        return settle(outcome);
    }

    @Override
    public boolean trySend(T item) {
        requireItem(item);
        Object outcome;
        lock.lock();
        try {
            ensureOpenForSend();
            if (items.size() < capacity) {
                enqueue(item);
                return true;
            }
            outcome = switch (overflow) {
                case BLOCK, FAIL -> NOT_SENT;
                case DROP_NEWEST -> drop(item);
                case DROP_OLDEST -> {
                    Object oldest = drop(items.poll());
                    enqueue(item);
                    yield oldest;
                }
            };
        } finally {
            lock.unlock();
        }
        return settle(outcome);
    }

    @Override
    public void sendAll(Collection<? extends T> batch) throws InterruptedException {
        Require.nonNull(batch, "items");
        Object[] snapshot = batch.toArray(); // read the caller's collection once
        for (Object item : snapshot) {
            requireItem(item);
        }
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        for (Object item : snapshot) {
            @SuppressWarnings("unchecked")
            T t = (T) item;
            Object outcome;
            lock.lock();
            try {
                outcome = sendLocked(t, 0L, false);
            } finally {
                lock.unlock();
            }
            settle(outcome);
        }
    }

    @Override
    public int sendGroup(List<T> group, int from) {
        for (int i = from; i < group.size(); i++) {
            try {
                send(group.get(i));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return i;
            }
        }
        return group.size();
    }

    /**
     * Sends under the lock. Returns {@link #ENQUEUED}, {@link #NOT_SENT} (a timed wait ran out), or the item a drop
     * policy discarded (under DROP_NEWEST {@code item} itself; under DROP_OLDEST the oldest, and {@code item} was
     * enqueued in its place), whose callback {@link #settle} runs once the lock is released.
     */
    private Object sendLocked(T item, long nanos, boolean timed) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        ensureOpenForSend();
        Object droppedOldest = null;
        while (items.size() >= capacity) {
            switch (overflow) {
                case FAIL -> throw new ChannelFullException(capacity);
                case DROP_NEWEST -> {
                    return drop(item);
                }
                case DROP_OLDEST -> droppedOldest = drop(items.poll());
                case BLOCK -> {
                    if (timed) {
                        if (nanos <= 0L) {
                            return NOT_SENT;
                        }
                        nanos = notFull.awaitNanos(nanos);
                    } else {
                        notFull.await();
                    }
                    ensureOpenForSend();
                }
            }
        }
        enqueue(item);
        return droppedOldest != null ? droppedOldest : ENQUEUED;
    }

    /**
     * After the lock is released: runs the drop callback for what a send discarded, so that no user code runs under
     * the lock (which every other operation of the channel takes); an exception it throws reaches the sender, the
     * item's fate decided already. Returns whether the sender's item was enqueued.
     */
    @SuppressWarnings("unchecked")
    private boolean settle(Object outcome) {
        if (outcome == ENQUEUED) {
            return true;
        }
        if (outcome == NOT_SENT) {
            return false;
        }
        if (onDrop != null) {
            onDrop.accept((T) outcome);
        }
        return overflow == Overflow.DROP_OLDEST; // the oldest made room for it; under DROP_NEWEST it was the one
    }

    private void enqueue(T item) {
        items.add(item);
        notEmpty.signal();
    }

    /** Counts a discarded item, under the lock; its callback runs later, in {@link #settle}. */
    private Object drop(T item) {
        dropped++;
        return item;
    }

    private void ensureOpenForSend() {
        Throwable f = failure;
        if (f != null) {
            throw new ChannelFailedException(f);
        }
        if (closed) {
            throw new ChannelClosedException("channel is closed for sending");
        }
    }

    @Override
    public T receive() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            return receiveLocked(0L, false);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public T receive(Duration timeout) throws InterruptedException {
        long nanos = timeoutNanos(timeout);
        lock.lockInterruptibly();
        try {
            return receiveLocked(nanos, true);
        } finally {
            lock.unlock();
        }
    }

    private T receiveLocked(long nanos, boolean timed) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        for (; ; ) {
            T item = takeLocked();
            if (item != null) {
                return item;
            }
            if (timed && nanos <= 0L) {
                return null;
            }
            waitingReceivers++;
            try {
                if (timed) {
                    nanos = notEmpty.awaitNanos(nanos);
                } else {
                    notEmpty.await();
                }
            } finally {
                waitingReceivers--;
            }
        }
    }

    /** The next item, or null if empty and open; throws if failed, or closed and drained. */
    private T takeLocked() {
        Throwable f = failure;
        if (f != null) {
            throw new ChannelFailedException(f);
        }
        T item = items.poll();
        if (item != null) {
            notFull.signal();
            return item;
        }
        if (closed) {
            throw new ChannelClosedException("channel is closed and drained");
        }
        return null;
    }

    @Override
    public T tryReceive() {
        lock.lock();
        try {
            return takeLocked();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int receiveMany(Collection<? super T> target, int maxItems) throws InterruptedException {
        Require.nonNull(target, "target");
        Require.atLeast(maxItems, 1, "maxItems");
        lock.lockInterruptibly();
        try {
            target.add(receiveLocked(0L, false));
            int n = 1 + items.drainTo(target, maxItems - 1);
            notFull.signalAll();
            return n;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int drainTo(Collection<? super T> target, int maxItems) {
        Require.nonNull(target, "target");
        Require.notNegative(maxItems, "maxItems");
        lock.lock();
        try {
            Throwable f = failure;
            if (f != null) {
                throw new ChannelFailedException(f);
            }
            int n = items.drainTo(target, maxItems);
            if (n > 0) {
                notFull.signalAll();
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean close() {
        lock.lock();
        try {
            if (closed || failure != null) {
                return false;
            }
            closed = true;
            notEmpty.signalAll();
            notFull.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean fail(Throwable cause) {
        Require.nonNull(cause, "cause");
        lock.lock();
        try {
            if (failure != null || (closed && items.isEmpty())) {
                return false;
            }
            failure = cause;
            closed = true;
            notEmpty.signalAll();
            notFull.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean isClosedForSend() {
        return closed;
    }

    @Override
    public boolean isClosedForReceive() {
        lock.lock();
        try {
            return failure != null || (closed && items.isEmpty());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    @Override
    public int size() {
        return items.size();
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
        return waitingReceivers != 0;
    }

    @Override
    public String toString() {
        String end = failure != null ? ", failed" : closed ? ", closed" : "";
        return "BlockingQueueChannel[capacity=" + capacity + ", size=" + size() + ", overflow=" + overflow + end + "]";
    }
}
