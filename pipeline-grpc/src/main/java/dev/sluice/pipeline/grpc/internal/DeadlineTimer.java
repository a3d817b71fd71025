package dev.sluice.pipeline.grpc.internal;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The scheduler that cancels the gRPC contexts of served runs ({@link ServedRunContext}) when their deadlines pass:
 * one executor on one virtual thread, {@value #THREAD_NAME}, shared by every served run whose call has a deadline.
 *
 * <h2>Lifecycle: a reference count</h2>
 * As {@link BatchWaitTimer}'s: loading this class starts no thread; {@link #acquire()} hands out the shared timer,
 * creating it if there is none; {@link #release()} gives it back, and the release that leaves it without users shuts
 * its executor down, so its thread ends. An acquire after that creates a new timer. (A {@link Shared} holds one such
 * count; {@link #acquire()} uses the process's, tests a {@link Shared} of their own.) Invariant: a context's deadline is
 * scheduled only on a timer its run holds, and the run cancels the context (which cancels the scheduled task) before
 * it releases the timer, so no deadline is left on a timer that has been shut down.
 *
 * <p>The thread is virtual: a served call rarely reaches its deadline, so it mostly waits, and a timer created and shut
 * down per call (calls that never overlap) costs no platform thread each time. Cancelled tasks leave its queue at once,
 * so calls that end long before their deadline leave nothing behind.
 */
final class DeadlineTimer {

    /** The name of the timer's thread. */
    static final String THREAD_NAME = "sluice-grpc-deadline-timer";

    /** The process's timer and its users, which served runs share. */
    private static final Shared PROCESS = new Shared();

    private final Shared owner;
    private final ScheduledThreadPoolExecutor executor;
    /** The holders of this timer; guarded by {@code owner.lock}. Once it drops to 0 the timer is shut down for good. */
    private int users;

    private DeadlineTimer(Shared owner) {
        this.owner = owner;
        executor = new ScheduledThreadPoolExecutor(
                1, Thread.ofVirtual().name(THREAD_NAME).factory());
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /**
     * The process's shared timer, with one more user: created now if no run held it. Every call must be paired with
     * one {@link #release()} of the timer it returned.
     */
    static DeadlineTimer acquire() {
        return PROCESS.acquire();
    }

    /** The executor to schedule a deadline on, while this timer is held. */
    ScheduledExecutorService scheduler() {
        return executor;
    }

    /**
     * One user fewer; the last one shuts the executor down (its thread ends), and the next acquire creates a new
     * timer.
     *
     * @throws IllegalStateException if the timer has no user left to release
     */
    void release() {
        owner.lock.lock();
        try {
            if (users == 0) {
                throw new IllegalStateException("the gRPC deadline timer was released more often than acquired");
            }
            if (--users == 0) {
                if (owner.timer == this) {
                    owner.timer = null;
                }
                executor.shutdown();
            }
        } finally {
            owner.lock.unlock();
        }
    }

    /** Whether the last user has released this timer. */
    boolean isShutDown() {
        return executor.isShutdown();
    }

    /** One reference-counted timer: the one {@link #acquire()} hands out while some user holds it, else none. */
    static final class Shared {
        private final ReentrantLock lock = new ReentrantLock();
        /** The timer handed out; null while nobody holds one. Guarded by {@link #lock}. */
        private DeadlineTimer timer;

        /** The timer, with one more user: created now if nobody held it. */
        DeadlineTimer acquire() {
            lock.lock();
            try {
                if (timer == null) {
                    timer = new DeadlineTimer(this);
                }
                timer.users++;
                return timer;
            } finally {
                lock.unlock();
            }
        }
    }
}
