package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.internal.check.Nanos;
import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * How a failed batch is retried: {@code maxRetries} retries, retry r (r = 1, 2, …) waiting
 * min(initialDelay × 2<sup>r−1</sup>, maxDelay) in whole milliseconds, as resilience4j's
 * {@code IntervalFunction.ofExponentialBackoff} computes it (the schedule of pipeline-grpc's retries too). While the
 * store is down, the spill file is replayed once every {@code maxDelay}. Immutable.
 */
public final class RetryPolicy {
    private static final double MULTIPLIER = 2.0;

    /**
     * From this retry on, {@link IntervalFunction}'s doubling of a delay of at least 1 ms has passed any cap: asking
     * for it spares the doubling of a larger retry number.
     */
    private static final int SATURATED_RETRY = 64;

    private final int maxRetries;
    private final Duration initialDelay;
    private final Duration maxDelay;
    private final IntervalFunction schedule;

    /**
     * A policy; the caller has checked the values.
     *
     * @param maxRetries retries after the first attempt, at least 0
     * @param initialDelay the wait before the first retry, at least 1 ms
     * @param maxDelay the longest wait, not below {@code initialDelay}
     */
    public RetryPolicy(int maxRetries, Duration initialDelay, Duration maxDelay) {
        this.maxRetries = maxRetries;
        this.initialDelay = initialDelay;
        this.maxDelay = maxDelay;
        // Saturated: a delay too long to count (one meant as "never") waits about 73 years.
        this.schedule = IntervalFunction.ofExponentialBackoff(
                Nanos.saturated(initialDelay) / 1_000_000, MULTIPLIER, Nanos.saturated(maxDelay) / 1_000_000);
    }

    /** This policy without retries: the same delays, for a caller whose next round is the retry. */
    public RetryPolicy withoutRetries() {
        return new RetryPolicy(0, initialDelay, maxDelay);
    }

    /** Retries after the first attempt. */
    public int maxRetries() {
        return maxRetries;
    }

    /** The longest wait, and the period of replays while the store is down. */
    public Duration maxDelay() {
        return maxDelay;
    }

    /** The wait before retry {@code retry} (1 for the first), in nanoseconds. */
    public long delayNanos(int retry) {
        return TimeUnit.MILLISECONDS.toNanos(schedule.apply(Math.min(Math.max(retry, 1), SATURATED_RETRY)));
    }
}
