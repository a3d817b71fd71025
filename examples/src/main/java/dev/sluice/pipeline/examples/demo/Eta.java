package dev.sluice.pipeline.examples.demo;

import java.util.List;
import java.util.OptionalLong;

/**
 * The progress line's time left, shown only once the rate has settled. A rate measured from the start of a run
 * includes its start-up (connections, class loading, a JIT still compiling) and predicts a run many times too
 * long; so the rule looks at the two most recent windows of {@link #WINDOW_NANOS} each:
 *
 * <ul>
 *   <li>the rate has <em>settled</em> when at least two whole windows have elapsed, both windows made progress,
 *       and their rates differ by at most {@link #MAX_CHANGE} of the larger one;
 *   <li>while it has not, there is no estimate;
 *   <li>once it has, the time left is what remains at the average rate of the two windows, rounded up to whole
 *       seconds; a run that is done has 0 s left.
 * </ul>
 *
 * The rule is evaluated afresh at every sample: a rate that changes again (a resume, a slow database) hides the
 * estimate until it settles again.
 */
final class Eta {

    /** The length of one window. */
    static final long WINDOW_NANOS = 1_000_000_000L;

    /** How much the two windows' rates may differ, as a fraction of the larger, for the rate to count as settled. */
    static final double MAX_CHANGE = 0.20;

    /** How far a run had got at a moment: nanoseconds since it started, and the items done by then. */
    record Sample(long nanos, long done) {}

    private Eta() {}

    /**
     * Seconds left, or empty while the rate has not settled.
     *
     * @param samples the run's samples in time order, the latest last (older ones may have been dropped, as long
     *     as one at least two windows before the latest is kept)
     * @param total the items the run will have done when it ends
     */
    static OptionalLong secondsLeft(List<Sample> samples, long total) {
        if (samples.isEmpty()) {
            return OptionalLong.empty();
        }
        Sample now = samples.getLast();
        if (now.done() >= total) {
            return OptionalLong.of(0);
        }
        Sample oneWindowAgo = latestAtOrBefore(samples, now.nanos() - WINDOW_NANOS);
        Sample twoWindowsAgo = latestAtOrBefore(samples, now.nanos() - 2 * WINDOW_NANOS);
        if (oneWindowAgo == null || twoWindowsAgo == null || twoWindowsAgo.nanos() == oneWindowAgo.nanos()) {
            return OptionalLong.empty();
        }
        double recent = rate(oneWindowAgo, now);
        double before = rate(twoWindowsAgo, oneWindowAgo);
        if (recent <= 0 || before <= 0 || Math.abs(recent - before) > MAX_CHANGE * Math.max(recent, before)) {
            return OptionalLong.empty();
        }
        double perNano = rate(twoWindowsAgo, now);
        return OptionalLong.of((long) Math.ceil((total - now.done()) / perNano / 1e9));
    }

    /** Items per nanosecond between two samples. */
    private static double rate(Sample from, Sample to) {
        return (double) (to.done() - from.done()) / (to.nanos() - from.nanos());
    }

    private static Sample latestAtOrBefore(List<Sample> samples, long nanos) {
        Sample found = null;
        for (Sample s : samples) {
            if (s.nanos() > nanos) {
                break;
            }
            found = s;
        }
        return found;
    }
}
