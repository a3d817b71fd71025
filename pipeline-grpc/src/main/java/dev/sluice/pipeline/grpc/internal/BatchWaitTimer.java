package dev.sluice.pipeline.grpc.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends the waits for a batch of the gRPC sources in this JVM once their time is up: one daemon platform thread,
 * {@value #THREAD_NAME}, shared by every source that needs it, which looks every {@value #TICK_NANOS} ns while any
 * source waits for a batch, and parks untimed otherwise.
 *
 * <h2>Lifecycle: a reference count</h2>
 * No thread runs until a source needs one: loading or initialising this class starts none. {@link #acquire()} hands
 * out the shared timer, creating it and starting its thread if there is none; {@link #release()} gives it back, and
 * the release that leaves it without users stops its thread (as grpc-java's {@code SharedResourceHolder} counts the
 * users of its shared executors). An acquire after that creates a new timer with a new thread. A source run that may
 * wait for a batch holds the timer from its start to its end, so the thread lives exactly while such a run does.
 * Invariant: a buffer is watched only by a timer its run holds, so no buffer waits on a stopped timer.
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

    private static final Logger log = LoggerFactory.getLogger(BatchWaitTimer.class);

    /** Guards {@link #shared} and every timer's {@link #users}. */
    private static final ReentrantLock HOLDER = new ReentrantLock();
    /** The timer {@link #acquire()} hands out; null while no source holds one. */
    private static BatchWaitTimer shared;

    private final ConcurrentLinkedQueue<ResponseBuffer<?>> watched = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    /** The holders of this timer; guarded by {@link #HOLDER}. Once it drops to 0 the timer is stopped for good. */
    private int users;
    /** The thread parks untimed: {@link #watch} must unpark it. */
    private volatile boolean sleeping;
    /** Set once, by the last release: the thread ends. */
    private volatile boolean stopped;

    private BatchWaitTimer() {
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
     * The shared timer, with one more user: started now if no source held it. Every call must be paired with one
     * {@link #release()} of the timer it returned.
     */
    static BatchWaitTimer acquire() {
        HOLDER.lock();
        try {
            if (shared == null) {
                shared = new BatchWaitTimer();
                shared.thread.start();
            }
            shared.users++;
            return shared;
        } finally {
            HOLDER.unlock();
        }
    }

    /**
     * One user fewer; the last one stops the thread (it ends within a tick), and the next {@link #acquire()} starts a
     * new timer.
     *
     * @throws IllegalStateException if the timer has no user left to release
     */
    void release() {
        HOLDER.lock();
        try {
            if (users == 0) {
                throw new IllegalStateException("the gRPC batch timer was released more often than acquired");
            }
            if (--users == 0) {
                stopped = true;
                if (shared == this) {
                    shared = null;
                }
                LockSupport.unpark(thread); // its permit ends a park that has not begun yet as well
            }
        } finally {
            HOLDER.unlock();
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

    /** Whether the last user has released this timer, for tests. */
    boolean isStopped() {
        return stopped;
    }

    private void run() {
        while (!stopped) {
            if (watched.isEmpty()) {
                sleeping = true;
                // A watch() between the check above and this one sees sleeping and unparks: no wake-up is lost.
                if (watched.isEmpty() && !stopped) {
                    LockSupport.park(this);
                }
                sleeping = false;
                continue;
            }
            LockSupport.parkNanos(this, TICK_NANOS);
            long now = System.nanoTime();
            watched.removeIf(buffer -> !tickSafely(buffer, now));
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
}
