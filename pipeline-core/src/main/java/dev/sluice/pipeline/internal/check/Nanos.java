package dev.sluice.pipeline.internal.check;

import java.time.Duration;

/** Durations as nanosecond counts that can be added to {@link System#nanoTime()} without overflowing. */
public final class Nanos {

    /** The longest wait a deadline stands for: about 73 years, so that {@code nanoTime() + FOREVER} cannot overflow. */
    public static final long FOREVER = Long.MAX_VALUE / 4;

    private Nanos() {}

    /**
     * {@code d} in nanoseconds, a negative duration as 0 and anything beyond about 73 years as about 73 years: a
     * count that can be added to {@link System#nanoTime()} safely.
     *
     * @param d the duration, not null
     * @return its nanoseconds, from 0 to {@link #FOREVER}
     */
    public static long saturated(Duration d) {
        if (d.isNegative()) {
            return 0L;
        }
        try {
            return Math.min(d.toNanos(), FOREVER);
        } catch (ArithmeticException tooFar) {
            return FOREVER;
        }
    }
}
