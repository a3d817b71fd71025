package dev.sluice.pipeline.examples.demo;

import java.util.List;
import java.util.OptionalLong;

/**
 * The progress line's time left, shown only once the rate has settled. A rate measured from the start of a run
 * includes its start-up (connections, class loading, a JIT still compiling) and predicts a run many times too
 * long; so the rule looks at the {@value #WINDOWS} most recent windows of {@link #WINDOW_NANOS} each:
 *
 * <ul>
 *   <li>the rate has <em>settled</em> when {@value #WINDOWS} whole windows have elapsed, each made progress, and
 *       their rates differ by at most {@link #MAX_CHANGE} of the largest (the largest less the smallest);
 *   <li>while it has not, there is no estimate;
 *   <li>once it has, the time left is what remains at the average rate of those windows, rounded up to whole
 *       seconds; a run that is done has 0 s left.
 * </ul>
 *
 * The rule is evaluated afresh at every sample: a rate that changes again (a resume, a slow database) hides the
 * estimate until it settles again.
 */
final class Eta {

    /** The length of one window. */
    static final long WINDOW_NANOS = 1_000_000_000L;

    /** How many windows in a row must agree. */
    static final int WINDOWS = 3;

    /** How much the windows' rates may differ, as a fraction of the largest, for the rate to count as settled. */
    static final double MAX_CHANGE = 0.20;

    /** How far a run had got at a moment: nanoseconds since it started, and the items done by then. */
    record Sample(long nanos, long done) {}

    private Eta() {}

    /**
     * Seconds left, or empty while the rate has not settled.
     *
     * @param samples the run's samples in time order, the latest last (older ones may have been dropped, as long
     *     as one at least {@value #WINDOWS} windows before the latest is kept)
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
        Sample[] ends = new Sample[WINDOWS + 1]; // ends[k]: the latest sample at least k windows before now
        ends[0] = now;
        for (int k = 1; k <= WINDOWS; k++) {
            ends[k] = latestAtOrBefore(samples, now.nanos() - k * WINDOW_NANOS);
            if (ends[k] == null || ends[k].nanos() == ends[k - 1].nanos()) {
                return OptionalLong.empty();
            }
        }
        double slowest = Double.MAX_VALUE;
        double fastest = 0;
        for (int k = 0; k < WINDOWS; k++) {
            double rate = rate(ends[k + 1], ends[k]);
            slowest = Math.min(slowest, rate);
            fastest = Math.max(fastest, rate);
        }
        if (slowest <= 0 || fastest - slowest > MAX_CHANGE * fastest) {
            return OptionalLong.empty();
        }
        double perNano = rate(ends[WINDOWS], now);
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
