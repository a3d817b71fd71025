package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.internal.check.Require;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * What an audit writer's threads share: the writer's lifecycle, and whether the store is taken to be down and when to
 * try it again. Every change signals one condition, on which a thread waits for its next job, out a retry delay, or
 * for the writer's threads to end. The threads take turns at the store ({@link #takeTurn}): at most as many store calls
 * run at once as the writer has draining threads. Thread-safe.
 *
 * <h2>The lifecycle</h2>
 * One immutable {@link Lifecycle} value, replaced under the lock and read without it: the {@link Stage}, the close
 * deadline, how many draining threads still run, how many of the writer's threads run, and whether the writer has
 * released its sink and spill file. The stages only move forward:
 * <ol>
 *   <li>{@link Stage#OPEN}: events are taken.</li>
 *   <li>{@link Stage#CLOSING} ({@link #beginClose}, once): events are refused; the threads write what is queued by
 *       the deadline, then end.</li>
 *   <li>{@link Stage#SEALED} ({@link #seal}): the closer has taken what was left in the queue; a submitter whose
 *       event got in after that takes it back.</li>
 *   <li>{@link Stage#CLOSED} ({@link #closeReturned}): {@code close()} has returned its report.</li>
 * </ol>
 * The writer releases its sink and spill file exactly once, when it is closed and none of its threads runs, whichever
 * of the two comes last: {@link #closeReturned} or {@link #threadEnded} returns true to the one caller that must.
 *
 * <h2>The store</h2>
 * The store's state is a belief, not a fact: a draining thread takes the store to be down when a batch still fails
 * after its retries, and spills without calling the store until the replaying thread finds it up again (a replay that
 * gets an event through, or that the store refuses for good, which it does only when it answers).
 */
public final class WriterState {

    /** Where a writer is in its life; the stages only move forward. */
    public enum Stage {
        /** Taking events. */
        OPEN,
        /** Asked to close: refusing events, writing what is queued by the close deadline. */
        CLOSING,
        /** The closer has taken what was left in the queue. */
        SEALED,
        /** {@code close()} has returned. */
        CLOSED
    }

    /**
     * The writer's lifecycle at one moment.
     *
     * @param stage where the writer is
     * @param closeDeadlineNanos by when the threads must end ({@link System#nanoTime()} time); meaningful from
     *     {@link Stage#CLOSING} on
     * @param draining how many draining threads have not ended
     * @param threadsRunning how many of the writer's threads (draining or replaying) have not ended
     * @param released whether the sink and spill file have been released
     */
    public record Lifecycle(Stage stage, long closeDeadlineNanos, int draining, int threadsRunning, boolean released) {}

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // One permit per draining thread, fair: the draining threads and the replaying thread take turns at the store, so
    // that a replay's batches, back to back, never keep new events waiting for more than one of them (a store's own
    // locks need not be fair: SQLite's are not), and a replay never adds a store call to those of the draining threads.
    private final Semaphore storeTurns;

    // Replaced under lock, read without it.
    private volatile Lifecycle life;

    // The store's belief, shared by the writer's threads: storeDown is set after nextProbeNanos is written, so a reader
    // that sees it down sees its probe time; it is cleared by a compare-and-set, so that one thread reports the store
    // back up.
    private final AtomicBoolean storeDown = new AtomicBoolean();
    private volatile long nextProbeNanos;
    // Whether a failure of the store has been logged since the store last took a batch: logged once, by one thread.
    private final AtomicBoolean failureLogged = new AtomicBoolean();

    /**
     * A writer's state, open, with its threads about to run.
     *
     * @param drainingThreads how many threads drain the queue, at least 1
     * @param replaying whether a replaying thread runs too (a writer with a spill file)
     * @throws IllegalArgumentException if {@code drainingThreads} is less than 1
     */
    public WriterState(int drainingThreads, boolean replaying) {
        Require.atLeast(drainingThreads, 1, "drainingThreads");
        this.storeTurns = new Semaphore(drainingThreads, true);
        this.life = new Lifecycle(Stage.OPEN, 0, drainingThreads, drainingThreads + (replaying ? 1 : 0), false);
    }

    /** The lifecycle now. */
    public Lifecycle lifecycle() {
        return life;
    }

    /**
     * Asks the threads to finish by {@code deadlineNanos} ({@link System#nanoTime()} time): {@link Stage#OPEN} to
     * {@link Stage#CLOSING}.
     *
     * @return true for the one caller that closes; false if a close had begun already
     */
    public boolean beginClose(long deadlineNanos) {
        lock.lock();
        try {
            Lifecycle l = life;
            if (l.stage() != Stage.OPEN) {
                return false;
            }
            life = new Lifecycle(Stage.CLOSING, deadlineNanos, l.draining(), l.threadsRunning(), l.released());
            changed.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Whether a close has begun: events are refused. */
    public boolean closing() {
        return life.stage() != Stage.OPEN;
    }

    /** {@link Stage#CLOSING} to {@link Stage#SEALED}: the closer has taken what was left in the queue. */
    public void seal() {
        lock.lock();
        try {
            Lifecycle l = life;
            if (l.stage() == Stage.CLOSING) {
                life = new Lifecycle(
                        Stage.SEALED, l.closeDeadlineNanos(), l.draining(), l.threadsRunning(), l.released());
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether the closer has taken what was left in the queue. */
    public boolean sealed() {
        Stage s = life.stage();
        return s == Stage.SEALED || s == Stage.CLOSED;
    }

    /**
     * {@code close()} returns: {@link Stage#CLOSING} or {@link Stage#SEALED} to {@link Stage#CLOSED}.
     *
     * @return true if the caller must now release the sink and spill file (no thread runs any more)
     */
    public boolean closeReturned() {
        lock.lock();
        try {
            Lifecycle l = life;
            if (l.stage() != Stage.CLOSING && l.stage() != Stage.SEALED) {
                return false;
            }
            boolean release = l.threadsRunning() == 0 && !l.released();
            life = new Lifecycle(
                    Stage.CLOSED, l.closeDeadlineNanos(), l.draining(), l.threadsRunning(), l.released() || release);
            changed.signalAll();
            return release;
        } finally {
            lock.unlock();
        }
    }

    /**
     * One of the writer's threads has ended.
     *
     * @param drainingThread whether it is a draining thread: once they all have ended, nothing more comes from the
     *     queue
     * @return true if the caller must now release the sink and spill file ({@code close()} has returned, and this was
     *     the last thread)
     * @throws IllegalStateException if every thread has ended already
     */
    public boolean threadEnded(boolean drainingThread) {
        lock.lock();
        try {
            Lifecycle l = life;
            if (l.threadsRunning() == 0) {
                throw new IllegalStateException("threadEnded: every thread of the writer has ended already");
            }
            int running = l.threadsRunning() - 1;
            boolean release = l.stage() == Stage.CLOSED && running == 0 && !l.released();
            life = new Lifecycle(
                    l.stage(),
                    l.closeDeadlineNanos(),
                    drainingThread ? l.draining() - 1 : l.draining(),
                    running,
                    l.released() || release);
            changed.signalAll();
            return release;
        } finally {
            lock.unlock();
        }
    }

    /** Whether every draining thread has ended: nothing more comes from the queue. */
    public boolean hasDrainEnded() {
        return life.draining() == 0;
    }

    /**
     * Waits at most {@code nanos} for every thread of the writer to end.
     *
     * @return whether they all have; false at once if interrupted (the flag is kept)
     */
    public boolean awaitThreadsEnded(long nanos) {
        return await(nanos, l -> l.threadsRunning() == 0);
    }

    /**
     * Waits at most {@code nanos} for {@code close()} to return, for a second caller of {@code close()}.
     *
     * @return whether it has; false at once if interrupted (the flag is kept)
     */
    public boolean awaitClosed(long nanos) {
        return await(nanos, l -> l.stage() == Stage.CLOSED);
    }

    private boolean await(long nanos, java.util.function.Predicate<Lifecycle> done) {
        long end = System.nanoTime() + nanos;
        lock.lock();
        try {
            while (!done.test(life)) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                changed.awaitNanos(left);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return done.test(life);
        } finally {
            lock.unlock();
        }
    }

    /** Whether a close was asked for and its deadline has passed. */
    public boolean pastCloseDeadline() {
        Lifecycle l = life;
        return l.stage() != Stage.OPEN && System.nanoTime() - l.closeDeadlineNanos() >= 0;
    }

    /** Whether there is time left before the close deadline (always, before a close). */
    public boolean beforeCloseDeadline() {
        return !pastCloseDeadline();
    }

    /** The store failed: take it to be down, and let it be tried again once {@code retryAfterNanos} have passed. */
    public void storeFailed(long retryAfterNanos) {
        nextProbeNanos = System.nanoTime() + retryAfterNanos;
        storeDown.set(true);
        signal();
    }

    /**
     * The store answered: take it to be up.
     *
     * @return whether it was taken to be down until now: true for one caller only
     */
    public boolean storeUp() {
        if (!storeDown.get() || !storeDown.compareAndSet(true, false)) {
            return false;
        }
        signal();
        return true;
    }

    public boolean storeDown() {
        return storeDown.get();
    }

    /** Whether the store may be tried now: it is taken to be up, or its retry time has come. */
    public boolean storeMayBeTried() {
        return !storeDown.get() || System.nanoTime() - nextProbeNanos >= 0;
    }

    /** How long until the store may be tried again; 0 if it may be now. */
    public long nanosUntilProbe() {
        return storeDown.get() ? Math.max(0, nextProbeNanos - System.nanoTime()) : 0;
    }

    /**
     * A batch failed for good: whether the caller is the first since the store last took a batch, and so the one to
     * log the failure at WARN (or ERROR); the others log at DEBUG.
     */
    public boolean firstFailureSinceAnswer() {
        return failureLogged.compareAndSet(false, true);
    }

    /** The store took a batch: its next failure is logged again. */
    public void storeAnswered() {
        if (failureLogged.get()) {
            failureLogged.set(false);
        }
    }

    /** Waits for this thread's turn at the store; {@link #endTurn()} after the store call. */
    public void takeTurn() throws InterruptedException {
        storeTurns.acquire();
    }

    /** Ends a turn that {@link #takeTurn()} began; call exactly once per turn taken. */
    public void endTurn() {
        storeTurns.release();
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
                Lifecycle l = life;
                if (l.stage() != Stage.OPEN && end - l.closeDeadlineNanos() > 0) {
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
