package dev.sluice.pipeline.audit.internal;

import java.time.Duration;

/**
 * How a failed batch is retried: {@code maxRetries} retries, retry r (r = 1, 2, …) waiting
 * min(initialDelay × 2<sup>r−1</sup>, maxDelay). While the store is down, the spill file is replayed once every
 * {@code maxDelay}.
 */
public record RetryPolicy(int maxRetries, Duration initialDelay, Duration maxDelay) {

    /** The wait before retry {@code retry} (1 for the first), in nanoseconds. */
    public long delayNanos(int retry) {
        long initial = initialDelay.toNanos();
        long max = maxDelay.toNanos();
        int shift = Math.min(retry - 1, 62);
        if (initial > (max >> shift)) {
            return max;
        }
        return Math.min(initial << shift, max);
    }
}
