package dev.sluice.pipeline.benchmarks;

import java.util.concurrent.atomic.LongAdder;

/**
 * The blocking call of benchmark 5: sleeps for a millisecond and returns its argument plus one. It records how long
 * each call really took, because a 1 ms sleep overshoots (by 50 µs to well over 100 µs here, more under load): the
 * ideal throughput of n concurrent calls is n per <i>measured</i> call time, not n per millisecond.
 */
final class BlockingCall {

    static final long SLEEP_MILLIS = 1;

    private final LongAdder nanos = new LongAdder();
    private final LongAdder calls = new LongAdder();

    Long apply(Long x) throws InterruptedException {
        long start = System.nanoTime();
        Thread.sleep(SLEEP_MILLIS);
        nanos.add(System.nanoTime() - start);
        calls.increment();
        return x + 1;
    }

    /** Total time spent inside calls so far, in nanoseconds. */
    long totalNanos() {
        return nanos.sum();
    }

    /** Calls completed so far. */
    long calls() {
        return calls.sum();
    }
}
