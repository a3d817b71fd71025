package dev.sluice.pipeline.grpc.internal;

import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends the waits for a batch of the gRPC sources in this JVM once their time is up: one daemon platform thread,
 * {@value #THREAD_NAME}, shared by every source that needs it, which looks every {@value #TICK_NANOS} ns while any
 * source waits for a batch, and parks otherwise (untimed while the timer has users, else for what is left of its
 * grace).
 *
 * <h2>Lifecycle: a reference count and an idle grace</h2>
 * No thread runs until a source needs one: loading or initialising this class starts none. {@link #acquire()} hands
 * out the shared timer, creating it and starting its thread if there is none; {@link #release()} gives it back. A
 * timer left without users stops its thread once it has had none for its grace ({@link #IDLE_GRACE} for the
 * process's timer), as grpc-java's {@code SharedResourceHolder} keeps its shared executors for a second after their
 * last user; an acquire within the grace keeps the timer, so sources run one after another share one thread instead
 * of starting one each. An acquire after the thread has stopped creates a new timer with a new thread. A source run
 * that may wait for a batch holds the timer from its start to its end. (A {@link Shared} holds one such timer;
 * {@link #acquire()} uses the process's, tests a {@link Shared} of their own.) Invariant: a buffer is watched only by
 * a timer its run holds, and a held timer never stops, so no buffer waits on a stopped timer.
 *
 * <h2>Why one ticking thread</h2>
 * A timed park per wait would end the same waits, but a virtual thread's timed park registers a timer with the JDK's
 * scheduler and cancels it when woken early, which costs a wake-up of the scheduler's timer thread each time: a
 * stream woken for a batch every few hundred microseconds pays for it in throughput (see {@code GrpcSourceBenchmark}'s
 * Netty case). This thread's ticks cost the same whatever the number of
 * sources, and it stops ticking once no source has waited for a batch for {@value #UNWATCH_AFTER_TICKS} ticks (quiet
 * streams, or pipelines too slow for their streams).
 */
final class BatchWaitTimer {

    /** The name of the timer's thread. */
    static final String THREAD_NAME = "sluice-grpc-batch-timer";

    /**
     * How often the thread looks while any source waits for a batch. A wait is due a tick before its time, so it
     * ends within the last tick of its time (give or take the scheduler); waits shorter than two ticks are timed
     * waits of their own.
     */
    static final long TICK_NANOS = 100_000;

    /** A buffer found not waiting for a batch this many ticks in a row is no longer watched (its pipeline is slow). */
    static final int UNWATCH_AFTER_TICKS = 10;

    /** How long the process's timer keeps its thread after its last user has left. */
    static final Duration IDLE_GRACE = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(BatchWaitTimer.class);

    /** The process's timer, which the sources of this JVM share. */
    private static final Shared PROCESS = new Shared(IDLE_GRACE);

    private final Shared owner;
    private final ConcurrentLinkedQueue<ResponseBuffer<?>> watched = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    /** The holders of this timer; guarded by {@code owner.lock}. */
    private int users;
    /** When the release that left the timer without users came ({@link System#nanoTime()}); guarded by the lock. */
    private long idleSince;
    /** The thread parks (untimed, or for what is left of the grace): {@link #watch} must unpark it. */
    private volatile boolean sleeping;
    /** Whether the timer has no users (written under the lock), so the ticking thread looks at its grace too. */
    private volatile boolean unused;
    /** Set once, by the thread, under the lock, when the grace has passed without users: the thread ends. */
    private volatile boolean stopped;

    private BatchWaitTimer(Shared owner) {
        this.owner = owner;
        this.thread = Thread.ofPlatform().daemon().name(THREAD_NAME).unstarted(this::run);
    }

    /**
     * Whether a wait for a batch of {@code maxDelayNanos} can be ended by the timer: only waits of at least two ticks
     * are (a shorter one is a timed wait of its own). A source whose waits never are need not acquire it.
     */
    static boolean endsWaitsOf(long maxDelayNanos) {
        return maxDelayNanos >= 2 * TICK_NANOS;
    }

    /**
     * The process's shared timer, with one more user: started now if there is none. Every call must be paired with
     * one {@link #release()} of the timer it returned.
     */
    static BatchWaitTimer acquire() {
        return PROCESS.acquire();
    }

    /**
     * One user fewer; the last one begins the grace after which the thread stops unless the timer is acquired again.
     *
     * @throws IllegalStateException if the timer has no user left to release
     */
    void release() {
        owner.lock.lock();
        try {
            if (users == 0) {
                throw new IllegalStateException("the gRPC batch timer was released more often than acquired");
            }
            if (--users == 0) {
                idleSince = System.nanoTime();
                unused = true;
                LockSupport.unpark(thread); // to time the grace; its permit ends a park that has not begun yet too
            }
        } finally {
            owner.lock.unlock();
        }
    }

    /**
     * On the timer's thread, with nothing to watch: how long to park. Negative while the timer has users (park until
     * unparked), positive for what is left of the grace, and 0 once the grace has passed without users, when the
     * timer stops (under the lock, so no acquire can hand it out after that).
     */
    private long idleParkNanos() {
        owner.lock.lock();
        try {
            if (users > 0) {
                return -1;
            }
            long left = idleSince + owner.idleGraceNanos - System.nanoTime();
            if (left > 0) {
                return left;
            }
            stopped = true;
            if (owner.timer == this) {
                owner.timer = null;
            }
            return 0;
        } finally {
            owner.lock.unlock();
        }
    }

    /**
     * Watches {@code buffer} from now until its {@link ResponseBuffer#tick} says it no longer needs to be. Called by
     * a buffer's taker while its run holds this timer.
     */
    void watch(ResponseBuffer<?> buffer) {
        watched.add(buffer);
        if (sleeping) {
            LockSupport.unpark(thread);
        }
    }

    /** The timer's thread, for tests. */
    Thread thread() {
        return thread;
    }

    /** Whether this timer has stopped (its grace passed without users), for tests. */
    boolean isStopped() {
        return stopped;
    }

    private void run() {
        while (!stopped) {
            if (watched.isEmpty()) {
                sleeping = true;
                // A watch() between the check above and this one sees sleeping and unparks: no wake-up is lost. A
                // release that leaves no users unparks too, so that the grace is timed.
                if (watched.isEmpty()) {
                    long nanos = idleParkNanos();
                    if (nanos < 0) {
                        LockSupport.park(this);
                    } else if (nanos > 0) {
                        LockSupport.parkNanos(this, nanos);
                    }
                }
                sleeping = false;
                continue;
            }
            LockSupport.parkNanos(this, TICK_NANOS);
            long now = System.nanoTime();
            watched.removeIf(buffer -> !tickSafely(buffer, now));
            // Buffers left watched once the timer has no users belong to runs that have ended: the grace ends the
            // thread all the same (even for a buffer whose tick keeps failing, which is never unwatched).
            if (unused && idleParkNanos() == 0) {
                break;
            }
        }
        watched.clear();
    }

    private static boolean tickSafely(ResponseBuffer<?> buffer, long now) {
        try {
            return buffer.tick(now);
        } catch (Throwable t) {
            // Never let one buffer stop the thread that ends every source's waits.
            log.error("the gRPC batch timer failed to tick a source's buffer; it keeps watching it", t);
            return true;
        }
    }

    /** One shared timer: the one {@link #acquire()} hands out until its thread stops, then a new one. */
    static final class Shared {
        private final ReentrantLock lock = new ReentrantLock();
        private final long idleGraceNanos;
        /** The timer handed out; null until the first acquire and after it stops. Guarded by {@link #lock}. */
        private BatchWaitTimer timer;

        /** A shared timer whose thread stops once it has had no users for {@code idleGrace}. */
        Shared(Duration idleGrace) {
            this.idleGraceNanos = idleGrace.toNanos();
        }

        /** The timer, with one more user: created, and its thread started, if there is none. */
        BatchWaitTimer acquire() {
            lock.lock();
            try {
                if (timer == null) {
                    timer = new BatchWaitTimer(this);
                    timer.thread.start();
                }
                timer.users++;
                timer.unused = false;
                return timer;
            } finally {
                lock.unlock();
            }
        }

        /**
         * For tests: ends the grace of a timer that has no users now, so that its thread stops at once rather than
         * after the grace.
         */
        void endGrace() {
            lock.lock();
            try {
                if (timer != null && timer.users == 0) {
                    timer.idleSince = System.nanoTime() - idleGraceNanos;
                    LockSupport.unpark(timer.thread);
                }
            } finally {
                lock.unlock();
            }
        }
    }
}
