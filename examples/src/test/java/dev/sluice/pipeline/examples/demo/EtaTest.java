package dev.sluice.pipeline.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.Test;

/** The progress line's time left: none until the rate has settled, then what remains at the settled rate. */
class EtaTest {

    private static final long MS = 1_000_000L;

    /** Samples every 200 ms up to {@code untilMs}, with {@code done} items done at each moment (in ms). */
    private static List<Eta.Sample> samples(long untilMs, LongUnaryOperator done) {
        List<Eta.Sample> samples = new ArrayList<>();
        for (long t = 200; t <= untilMs; t += 200) {
            samples.add(new Eta.Sample(t * MS, done.applyAsLong(t)));
        }
        return samples;
    }

    @Test
    void noEstimateBeforeThreeWholeWindows() {
        // 100 items per ms from the start, steady: still no estimate before 3 s
        assertThat(Eta.secondsLeft(samples(3_000, t -> 100 * t), 1_000_000)).isEmpty();
        assertThat(Eta.secondsLeft(List.of(), 1_000_000)).isEmpty();
    }

    @Test
    void aSteadyRateGivesWhatRemainsAtThatRate() {
        // 100 items per ms: at 3.2 s, 320,000 done, 680,000 left: 6.8 s, rounded up
        assertThat(Eta.secondsLeft(samples(3_200, t -> 100 * t), 1_000_000)).hasValue(7);
        assertThat(Eta.secondsLeft(samples(6_000, t -> 100 * t), 1_000_000)).hasValue(4);
    }

    @Test
    void aStartUpThatIsStillSpeedingUpGivesNoEstimate() {
        // the rate doubles every second, as while connections open and the JIT compiles
        assertThat(Eta.secondsLeft(samples(5_000, t -> (long) (1_000 * Math.pow(2, t / 1_000.0))), 10_000_000))
                .isEmpty();
        // or it climbs by 15 % a second: each window close to the last, but not to the one before
        assertThat(Eta.secondsLeft(samples(5_000, t -> (long) (100_000 * Math.pow(1.15, t / 1_000.0))), 10_000_000))
                .isEmpty();
    }

    @Test
    void aRateThatChangesAgainHidesTheEstimateUntilItSettles() {
        // steady at 100 per ms for 4 s, then 40 per ms
        LongUnaryOperator slowedDown = t -> t <= 4_000 ? 100 * t : 400_000 + 40 * (t - 4_000);
        assertThat(Eta.secondsLeft(samples(4_000, slowedDown), 1_000_000)).isPresent();
        assertThat(Eta.secondsLeft(samples(5_000, slowedDown), 1_000_000)).isEmpty();
        assertThat(Eta.secondsLeft(samples(6_000, slowedDown), 1_000_000)).isEmpty();
        assertThat(Eta.secondsLeft(samples(7_000, slowedDown), 1_000_000)).hasValue(12); // 480,000 left at 40/ms
    }

    @Test
    void ratesWithinTheAllowedChangeCountAsSettled() {
        // 100 per ms for three seconds, then 85 per ms: 15 % apart
        LongUnaryOperator wobbly = t -> t <= 3_000 ? 100 * t : 300_000 + 85 * (t - 3_000);
        assertThat(Eta.secondsLeft(samples(4_000, wobbly), 1_000_000)).isPresent();
        // 100 then 75: 25 % apart
        LongUnaryOperator jumpy = t -> t <= 3_000 ? 100 * t : 300_000 + 75 * (t - 3_000);
        assertThat(Eta.secondsLeft(samples(4_000, jumpy), 1_000_000)).isEmpty();
    }

    @Test
    void aStalledRunHasNoEstimate() {
        LongUnaryOperator stalled = t -> Math.min(100 * t, 250_000);
        assertThat(Eta.secondsLeft(samples(4_000, stalled), 1_000_000)).isEmpty();
    }

    @Test
    void aFinishedRunHasNoTimeLeft() {
        assertThat(Eta.secondsLeft(samples(400, t -> 1_000), 1_000)).hasValue(0);
    }

    @Test
    void onARunWithASlowStartEveryEstimateShownIsCloseToTheTruth() {
        // given an 8 s run of a million items whose first second runs at a tenth of the speed of the rest (the
        // estimate from the start would have been about 90 s at 0.2 s)
        long total = 1_000_000;
        LongUnaryOperator done = t -> t <= 1_000 ? 13 * t : Math.min(total, 13_000 + 140 * (t - 1_000));
        long endMs = 1_000 + (total - 13_000) / 140;
        int shown = 0;
        for (long t = 200; t <= endMs; t += 200) {
            OptionalLong eta = Eta.secondsLeft(samples(t, done), total);
            if (eta.isPresent()) {
                shown++;
                double truth = (endMs - t) / 1_000.0;
                // then every estimate shown is within a second (the rounding up) and 10 % of the time truly left
                assertThat((double) eta.getAsLong()).as("at %d ms", t).isBetween(truth - 0.1 * truth, truth * 1.1 + 1);
            }
        }
        assertThat(shown).as("estimates shown").isGreaterThan(15);
    }
}
