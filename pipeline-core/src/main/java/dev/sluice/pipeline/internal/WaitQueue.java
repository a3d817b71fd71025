package dev.sluice.pipeline.internal;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The threads parked on one side of a channel (its receivers, or its senders), in arrival order.
 *
 * <p>Only the slow path touches it: a thread registers just before parking, and the other side signals only
 * when {@link #count()} says somebody waits. A lock guards the list, never an item; it is held for a few
 * pointer updates and never while parking or unparking, so it cannot pin a virtual thread.
 *
 * <p>The protocol that rules out lost wake-ups (a Dekker handshake):
 * <ol>
 *   <li>a waiter {@link #enqueue() registers} (the count increment is a full fence), then re-checks its
 *       condition, and parks only if the re-check fails;</li>
 *   <li>the other side changes the condition, then reads {@link #count()} (a volatile read) ordered after the
 *       change: behind a full fence, or with no fence when the change was itself a CAS (volatile accesses are
 *       totally ordered, consistently with program order), and signals if it is non-zero.</li>
 * </ol>
 * Either the waiter's re-check sees the change, or the other side's read sees the waiter. A signalled waiter is
 * unlinked by the signaller, so {@link #remove(Waiter)} returning {@code false} tells the waiter a signal was
 * spent on it; if it then does not use it (it found work without parking, timed out or was interrupted), it
 * must pass it on.
 */
final class WaitQueue {

    /** One parked thread. Identity matters: a thread that waits twice registers two waiters. */
    static final class Waiter {
        final Thread thread = Thread.currentThread();
        // Guarded by the queue's lock.
        Waiter prev;
        Waiter next;
        boolean linked = true;
    }

    private final ReentrantLock lock = new ReentrantLock();
    // The count is read without the lock on every send or receive that could need to signal; it changes only
    // under the lock, through the atomic so that the increment is a full fence (step 1 above).
    private final AtomicInteger count = new AtomicInteger();
    private Waiter head;
    private Waiter tail;

    /** How many threads are registered. A plain volatile read: cheap when nobody waits. */
    int count() {
        return count.get();
    }

    /** Registers the calling thread; the caller must re-check its condition before parking. */
    Waiter enqueue() {
        Waiter waiter = new Waiter();
        lock.lock();
        try {
            if (tail == null) {
                head = waiter;
            } else {
                tail.next = waiter;
                waiter.prev = tail;
            }
            tail = waiter;
            count.incrementAndGet();
        } finally {
            lock.unlock();
        }
        return waiter;
    }

    /**
     * Unregisters a waiter that stops waiting.
     *
     * @return {@code true} if it was still registered; {@code false} if a signaller had already unlinked it
     *     (a signal was spent on it)
     */
    boolean remove(Waiter waiter) {
        lock.lock();
        try {
            if (!waiter.linked) {
                return false;
            }
            unlink(waiter);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Wakes the longest-waiting thread, if any. */
    void signalOne() {
        if (count.get() == 0) {
            return;
        }
        Waiter waiter;
        lock.lock();
        try {
            waiter = head;
            if (waiter != null) {
                unlink(waiter);
            }
        } finally {
            lock.unlock();
        }
        if (waiter != null) {
            LockSupport.unpark(waiter.thread);
        }
    }

    /** Wakes every registered thread. */
    void signalAll() {
        Waiter first;
        lock.lock();
        try {
            first = head;
            for (Waiter w = first; w != null; w = w.next) {
                w.linked = false;
            }
            head = null;
            tail = null;
            count.set(0);
        } finally {
            lock.unlock();
        }
        // The links of unlinked waiters are no longer touched by anyone else, so walking them here is safe.
        for (Waiter w = first; w != null; w = w.next) {
            LockSupport.unpark(w.thread);
        }
    }

    private void unlink(Waiter waiter) {
        Waiter prev = waiter.prev;
        Waiter next = waiter.next;
        if (prev == null) {
            head = next;
        } else {
            prev.next = next;
        }
        if (next == null) {
            tail = prev;
        } else {
            next.prev = prev;
        }
        waiter.prev = null;
        waiter.next = null;
        waiter.linked = false;
        count.decrementAndGet();
    }
}
