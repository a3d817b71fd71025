package dev.sluice.pipeline.audit.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * What an audit writer's threads share: whether a close was asked for and by when it must end, whether the store is
 * taken to be down and when to try it again, and whether the draining thread has ended. Every change signals one
 * condition, on which a thread waits for its next job or out a retry delay. The threads take turns at the store
 * ({@link #takeTurn}). Thread-safe.
 *
 * <p>The store's state is a belief, not a fact: the draining thread takes the store to be down when a batch still
 * fails after its retries, and spills without calling the store until the replaying thread finds it up again (a replay
 * that gets an event through, or that the store refuses for good, which it does only when it answers).
 */
public final class WriterState {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // Fair: the draining and the replaying thread take turns at the store, so that a replay's batches, back to back,
    // never keep new events waiting for more than one of them (a store's own locks need not be fair: SQLite's are not).
    private final ReentrantLock storeTurn = new ReentrantLock(true);

    // Each written by one thread and read by others; closing is written after its deadline, so a reader that sees it
    // sees the deadline.
    private volatile long closeDeadlineNanos;
    private volatile boolean closing;
    private volatile boolean storeDown;
    private volatile long nextProbeNanos;
    private volatile boolean drainEnded;

    /** Asks the threads to finish by {@code deadlineNanos} ({@link System#nanoTime()} time). */
    public void beginClose(long deadlineNanos) {
        closeDeadlineNanos = deadlineNanos;
        closing = true;
        signal();
    }

    public boolean closing() {
        return closing;
    }

    /** Whether a close was asked for and its deadline has passed. */
    public boolean pastCloseDeadline() {
        return closing && System.nanoTime() - closeDeadlineNanos >= 0;
    }

    /** Whether there is time left before the close deadline (always, before a close). */
    public boolean beforeCloseDeadline() {
        return !closing || System.nanoTime() - closeDeadlineNanos < 0;
    }

    /** The store failed: take it to be down, and let it be tried again once {@code retryAfterNanos} have passed. */
    public void storeFailed(long retryAfterNanos) {
        nextProbeNanos = System.nanoTime() + retryAfterNanos;
        storeDown = true;
        signal();
    }

    /**
     * The store answered: take it to be up.
     *
     * @return whether it was taken to be down until now
     */
    public boolean storeUp() {
        if (!storeDown) {
            return false;
        }
        storeDown = false;
        signal();
        return true;
    }

    public boolean storeDown() {
        return storeDown;
    }

    /** Whether the store may be tried now: it is taken to be up, or its retry time has come. */
    public boolean storeMayBeTried() {
        return !storeDown || System.nanoTime() - nextProbeNanos >= 0;
    }

    /** How long until the store may be tried again; 0 if it may be now. */
    public long nanosUntilProbe() {
        return storeDown ? Math.max(0, nextProbeNanos - System.nanoTime()) : 0;
    }

    /** Waits for this thread's turn at the store; {@link #endTurn()} after the store call. */
    public void takeTurn() throws InterruptedException {
        storeTurn.lockInterruptibly();
    }

    public void endTurn() {
        storeTurn.unlock();
    }

    /** The draining thread has ended: nothing more comes from the queue. */
    public void drainEnded() {
        drainEnded = true;
        signal();
    }

    public boolean hasDrainEnded() {
        return drainEnded;
    }

    /** Wakes the threads that wait in {@link #awaitChange}: something changed, such as a spill. */
    public void signal() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits at most {@code nanos}, or until {@link #signal()}, if {@code idle} still holds once the lock is held: a
     * change made before its signal is then seen, never missed. Spurious returns are allowed: recheck the state.
     */
    public void awaitChange(long nanos, BooleanSupplier idle) throws InterruptedException {
        lock.lock();
        try {
            if (idle.getAsBoolean()) {
                changed.awaitNanos(nanos);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits {@code nanos} (a retry delay), unless that would pass the close deadline.
     *
     * @return true once the time has passed; false at once if waiting would pass the close deadline, or if the thread
     *     is interrupted (its flag is kept: the closer gave up, and the thread's next wait ends it)
     */
    public boolean pause(long nanos) {
        long end = System.nanoTime() + nanos;
        lock.lock();
        try {
            for (; ; ) {
                if (closing && end - closeDeadlineNanos > 0) {
                    return false;
                }
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return true;
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** A wait of at most a second, so that a thread that waits for work rechecks its state now and then. */
    public static long idleWaitNanos() {
        return TimeUnit.SECONDS.toNanos(1);
    }
}
