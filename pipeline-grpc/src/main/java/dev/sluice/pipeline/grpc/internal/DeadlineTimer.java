package dev.sluice.pipeline.grpc.internal;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The scheduler that cancels the gRPC contexts of served runs ({@link ServedRunContext}) when their deadlines pass:
 * one executor on one virtual thread, {@value #THREAD_NAME}, shared by every served run whose call has a deadline.
 *
 * <h2>Lifecycle: a reference count and an idle grace</h2>
 * Loading this class starts no thread. {@link Shared#acquire()} hands out the shared timer, creating it if there is
 * none, and {@link #release()} gives it back. A timer left without users shuts its executor down (so its thread ends) once
 * it has stayed without users for its grace ({@link #IDLE_GRACE} for the process's timer); an acquire within the
 * grace keeps it, so a server that serves calls one after another keeps one timer rather than starting a thread per
 * call. An acquire after the shutdown creates a new timer. (Served runs share {@link #PROCESS}; tests use a
 * {@link Shared} of their own.)
 *
 * <p>Invariant: a context's deadline is scheduled only on a timer its run holds, and the run cancels the context
 * (which takes the scheduled task out of the queue) before it releases the timer, so no deadline is left on a timer
 * that shuts down.
 *
 * <p>The thread is virtual: a served call rarely reaches its deadline, so it mostly waits, and an idle timer holds no
 * platform thread.
 */
final class DeadlineTimer {

    /** The name of the timer's thread. */
    static final String THREAD_NAME = "sluice-grpc-deadline-timer";

    /** How long the process's timer outlives its last user. */
    static final Duration IDLE_GRACE = Duration.ofSeconds(1);

    /** The process's timer and its users, which served runs share. */
    static final Shared PROCESS = new Shared(IDLE_GRACE);

    private final Shared owner;
    private final ScheduledThreadPoolExecutor executor;
    /** The holders of this timer; guarded by {@code owner.lock}. */
    private int users;
    /** The shutdown scheduled while the timer has no users; null otherwise. Guarded by {@code owner.lock}. */
    private ScheduledFuture<?> idleShutdown;
    /**
     * Counts acquires; guarded by {@code owner.lock}. A scheduled shutdown acts only if no acquire came after the
     * release that scheduled it (cancelling its future cannot stop one that has already begun to run).
     */
    private long acquires;

    private DeadlineTimer(Shared owner) {
        this.owner = owner;
        executor = new ScheduledThreadPoolExecutor(
                1, Thread.ofVirtual().name(THREAD_NAME).factory());
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /** The executor to schedule a deadline on, while this timer is held. */
    ScheduledExecutorService scheduler() {
        return executor;
    }

    /**
     * One user fewer; the last one leaves the timer to shut down after its grace, unless it is acquired again by then.
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
                long idleSince = acquires;
                idleShutdown = executor.schedule(
                        () -> shutDownIfIdleSince(idleSince), owner.idleGraceNanos, TimeUnit.NANOSECONDS);
            }
        } finally {
            owner.lock.unlock();
        }
    }

    /**
     * The end of a grace (on the timer's thread): shuts the executor down if nobody has acquired the timer since the
     * release that began the grace.
     */
    private void shutDownIfIdleSince(long acquiresAtRelease) {
        owner.lock.lock();
        try {
            if (users == 0 && acquires == acquiresAtRelease && owner.timer == this) {
                owner.timer = null;
                executor.shutdown();
            }
        } finally {
            owner.lock.unlock();
        }
    }

    /** Whether this timer has shut down: it stayed without users for its grace. */
    boolean isShutDown() {
        return executor.isShutdown();
    }

    /** Its users now, for tests. */
    int users() {
        owner.lock.lock();
        try {
            return users;
        } finally {
            owner.lock.unlock();
        }
    }

    /**
     * One shared timer: the one {@link #acquire()} hands out until it shuts down, then a new one. Every acquire must be
     * paired with one {@link DeadlineTimer#release()} of the timer it returned.
     */
    static final class Shared {
        private final ReentrantLock lock = new ReentrantLock();
        private final long idleGraceNanos;
        /** The timer handed out; null until the first acquire and after a shutdown. Guarded by {@link #lock}. */
        private DeadlineTimer timer;

        /** A shared timer that shuts down once it has had no users for {@code idleGrace}. */
        Shared(Duration idleGrace) {
            this.idleGraceNanos = idleGrace.toNanos();
        }

        /** The timer, with one more user: created now if there is none; a shutdown pending for it is called off. */
        DeadlineTimer acquire() {
            lock.lock();
            try {
                if (timer == null) {
                    timer = new DeadlineTimer(this);
                }
                if (timer.idleShutdown != null) {
                    timer.idleShutdown.cancel(false);
                    timer.idleShutdown = null;
                }
                timer.users++;
                timer.acquires++;
                return timer;
            } finally {
                lock.unlock();
            }
        }
    }
}
