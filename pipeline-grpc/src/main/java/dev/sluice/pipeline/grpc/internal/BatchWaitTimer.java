package dev.sluice.pipeline.grpc.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends the waits for a batch of the gRPC sources in this JVM once their time is up: one daemon platform thread for
 * all of them, which looks every {@value #TICK_NANOS} ns while any source waits for a batch, and sleeps otherwise.
 *
 * <p>Why not a timed wait per batch: a virtual thread's timed park registers a timer with the JDK's scheduler and
 * cancels it when woken early, which costs a wake-up of the timer's own thread each time; for a stream woken for a
 * batch every 100 µs or so that took about a tenth of its throughput over Netty on 2 cores. This thread's ticks
 * cost the same whatever the number of sources, and it stops ticking once no source has waited for a batch for
 * {@value #UNWATCH_AFTER_TICKS} ticks (quiet streams, or pipelines too slow for their streams).
 */
final class BatchWaitTimer {

    /**
     * How often the thread looks while any source waits for a batch. A wait is due a tick before its time, so it
     * ends within the last tick of its time (give or take the scheduler); waits shorter than two ticks are timed
     * waits of their own.
     */
    static final long TICK_NANOS = 100_000;

    /** A buffer found not waiting for a batch this many ticks in a row is no longer watched (its pipeline is slow). */
    static final int UNWATCH_AFTER_TICKS = 10;

    private static final Logger log = LoggerFactory.getLogger(BatchWaitTimer.class);
    private static final ConcurrentLinkedQueue<ResponseBuffer<?>> WATCHED = new ConcurrentLinkedQueue<>();
    private static final Thread THREAD =
            Thread.ofPlatform().daemon().name("sluice-grpc-batch-timer").unstarted(BatchWaitTimer::run);
    private static volatile boolean sleeping;

    static {
        THREAD.start();
    }

    private BatchWaitTimer() {}

    /** Watches {@code buffer} from now until its {@link ResponseBuffer#tick} says it no longer needs to be. */
    static void watch(ResponseBuffer<?> buffer) {
        WATCHED.add(buffer);
        if (sleeping) {
            LockSupport.unpark(THREAD);
        }
    }

    /** The timer's thread, for tests. */
    static Thread thread() {
        return THREAD;
    }

    private static void run() {
        for (; ; ) {
            if (WATCHED.isEmpty()) {
                sleeping = true;
                // A watch() between the check above and this one sees sleeping and unparks: no wake-up is lost.
                if (WATCHED.isEmpty()) {
                    LockSupport.park();
                }
                sleeping = false;
                continue;
            }
            LockSupport.parkNanos(TICK_NANOS);
            long now = System.nanoTime();
            WATCHED.removeIf(buffer -> !tickSafely(buffer, now));
        }
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
