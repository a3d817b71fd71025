package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.internal.check.Require;
import io.github.resilience4j.core.IntervalFunction;
import io.grpc.Status;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Set;

/**
 * Retry, backoff and timeout options of gRPC calls.
 * Immutable and thread-safe; built with {@link #builder()}, which refuses out-of-range values when
 * {@link Builder#build()} is called.
 *
 * <table>
 *   <caption>Options</caption>
 *   <tr><th>option</th><th>range</th><th>default</th></tr>
 *   <tr><td>{@code maxRetryAttempts}</td><td>1–10</td><td>3</td></tr>
 *   <tr><td>{@code initialRetryDelay}</td><td>50–5000 ms</td><td>100 ms</td></tr>
 *   <tr><td>{@code maxRetryDelay}</td><td>500–10000 ms</td><td>1000 ms</td></tr>
 *   <tr><td>{@code requestTimeout}</td><td>10–300 s</td><td>30 s</td></tr>
 *   <tr><td>{@code jitter}</td><td>0.0–1.0</td><td>0 (none)</td></tr>
 *   <tr><td>{@code retryableCodes}</td><td>any codes but OK</td><td>UNAVAILABLE, INTERNAL</td></tr>
 * </table>
 *
 * <h2>The schedule</h2>
 * {@code maxRetryAttempts} counts retries, so 3 means at most 4 calls. Retry {@code r} (r = 1, 2, …) waits
 * {@code min(initialRetryDelay × 2^(r−1), maxRetryDelay)}: 100, 200, 400 ms by default ({@link #backoff(int)}).
 * The waits are resilience4j's {@code IntervalFunction.ofExponentialBackoff} with multiplier 2, capped at
 * {@code maxRetryDelay}, in whole milliseconds (a fraction of a millisecond in either delay is dropped).
 *
 * <p>With a jitter {@code j > 0}, each wait is resilience4j's randomized variant instead,
 * {@code IntervalFunction.ofExponentialRandomBackoff} with randomization factor {@code j}
 * ({@link #jitteredBackoff(int)}): with {@code e = initialRetryDelay × 2^(r−1)} before the cap, a whole number of
 * milliseconds drawn uniformly from {@code e × (1 − j)} to {@code e × (1 + j)} (both rounded down, both included,
 * and at least 1 ms), then capped at {@code maxRetryDelay}. So a jittered wait may be up to {@code 1 + j} times the
 * unjittered one, but never longer than {@code maxRetryDelay} (resilience4j applies the cap after the draw); once
 * {@code e × (1 − j)} reaches the cap, every wait is {@code maxRetryDelay}.
 *
 * <p>For a stream, the count starts again whenever a resumed call delivers an item.
 *
 * <h2>Retries wait for the channel</h2>
 * The first call is made with the caller's call options. Every retry and resume waits for the channel to be ready
 * (gRPC's wait-for-ready), for at most the request timeout: after a refused connection grpc-java fails new calls at
 * once until its reconnect backoff has passed (about 1 s, then 1.6 times longer after each refusal), which the
 * backoff schedule alone would not outlast. A server that restarts is therefore reached as soon as the channel has
 * reconnected to it. An attempt whose channel is not ready within the request timeout fails with UNAVAILABLE ("no
 * connection to the target"), retried like any other. A target that stays unreachable fails the call after the
 * first attempt plus, for each retry, its backoff and the request timeout: about 91 s with the defaults
 * (3 × 30 s, plus 100 + 200 + 400 ms).
 *
 * <h2>The status table</h2>
 * A call that ends with a code in {@code retryableCodes} is retried with backoff; any other code never is.
 * DEADLINE_EXCEEDED is not retried by default: raise the timeout instead. A cancellation the caller asked for is
 * never retried, whatever the table says. Sluice's own stream idle timeout (below) is always retryable. A response
 * the client cannot parse fails the call with INTERNAL, the parse error as its cause, and is never retried, whatever
 * the table says: the same bytes would come again.
 *
 * <h2>The request timeout</h2>
 * For a unary call, the gRPC deadline of each attempt (an earlier deadline in the caller's {@code CallOptions}
 * wins). For a server stream, the longest wait for the first message and between messages <em>while the source
 * has demand outstanding and an empty buffer</em>: a stalled server, never a slow consumer. When it passes,
 * Sluice cancels the call and retries or resumes it. Nothing bounds a whole stream but the pipeline's deadline.
 * Either way it also bounds a retried attempt's wait for the channel to be ready (above).
 *
 * <p>Do not also configure a retry policy in the channel's service config: its attempts would multiply with
 * these. gRPC's built-in retry also stops once response headers arrive, while Sluice resumes past them.
 *
 * @since 0.1
 */
public final class ResilienceOptions {

    /** The codes retried by default: UNAVAILABLE and INTERNAL. */
    public static final Set<Status.Code> DEFAULT_RETRYABLE_CODES =
            Set.copyOf(EnumSet.of(Status.Code.UNAVAILABLE, Status.Code.INTERNAL));

    private static final ResilienceOptions DEFAULTS = builder().build();

    /** Each retry's wait is twice the one before, up to the cap. */
    private static final double MULTIPLIER = 2.0;

    /**
     * {@link IntervalFunction} computes retry {@code r}'s wait by doubling the initial delay {@code r − 1} times, with
     * the product saturating at {@code Long.MAX_VALUE} ms; from this retry on it has saturated (the initial delay is
     * at least 1 ms), so every later retry waits the same, and asking for this one spares the doubling.
     */
    private static final int SATURATED_RETRY = 64;

    private final int maxRetryAttempts;
    private final Duration initialRetryDelay;
    private final Duration maxRetryDelay;
    private final Duration requestTimeout;
    private final double jitter;
    private final Set<Status.Code> retryableCodes;
    private final Sleeper sleeper;
    private final IntervalFunction schedule;
    private final IntervalFunction jitteredSchedule;

    private ResilienceOptions(Builder b) {
        this.maxRetryAttempts = b.maxRetryAttempts;
        this.initialRetryDelay = b.initialRetryDelay;
        this.maxRetryDelay = b.maxRetryDelay;
        this.requestTimeout = b.requestTimeout;
        this.jitter = b.jitter;
        this.retryableCodes = Set.copyOf(b.retryableCodes);
        this.sleeper = b.sleeper;
        long initialMillis = initialRetryDelay.toMillis();
        long maxMillis = maxRetryDelay.toMillis();
        this.schedule = IntervalFunction.ofExponentialBackoff(initialMillis, MULTIPLIER, maxMillis);
        this.jitteredSchedule = jitter == 0.0
                ? schedule
                : IntervalFunction.ofExponentialRandomBackoff(initialMillis, MULTIPLIER, jitter, maxMillis);
    }

    /**
     * The defaults: 3 retries, 100 ms initial delay, 1000 ms max delay, 30 s timeout, no jitter.
     *
     * @return the shared default options, retrying the default status table with {@link Sleeper#system()}
     */
    public static ResilienceOptions defaults() {
        return DEFAULTS;
    }

    /**
     * A builder starting from the defaults.
     *
     * @return a new builder holding {@link #defaults()}' values
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder starting from these options.
     *
     * @return a new builder holding these options' values, to change some of them; these options stay as they are
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxRetryAttempts = maxRetryAttempts;
        b.initialRetryDelay = initialRetryDelay;
        b.maxRetryDelay = maxRetryDelay;
        b.requestTimeout = requestTimeout;
        b.jitter = jitter;
        b.retryableCodes = EnumSet.copyOf(retryableCodes);
        b.sleeper = sleeper;
        return b;
    }

    /**
     * The most retries in a row without progress: a failing call is made at most this many times plus one.
     *
     * @return the retry limit, 1 to 10
     */
    public int maxRetryAttempts() {
        return maxRetryAttempts;
    }

    /**
     * The wait before the first retry, doubled for each further one up to {@link #maxRetryDelay()}.
     *
     * @return the first backoff, 50 to 5000 ms
     */
    public Duration initialRetryDelay() {
        return initialRetryDelay;
    }

    /**
     * The cap on the wait between retries, jitter included.
     *
     * @return the longest backoff, 500 to 10000 ms
     */
    public Duration maxRetryDelay() {
        return maxRetryDelay;
    }

    /**
     * Per-attempt deadline of a unary call; idle timeout of a stream (see the class comment).
     *
     * @return the timeout, 10 to 300 s
     */
    public Duration requestTimeout() {
        return requestTimeout;
    }

    /**
     * The randomization factor of each wait (see the class comment); 0 for none.
     *
     * @return the jitter, 0.0 to 1.0
     */
    public double jitter() {
        return jitter;
    }

    /**
     * The codes that are retried.
     *
     * @return an unmodifiable set, never containing OK
     */
    public Set<Status.Code> retryableCodes() {
        return retryableCodes;
    }

    /**
     * What waits between attempts.
     *
     * @return the sleeper the retry loop calls with each backoff
     */
    public Sleeper sleeper() {
        return sleeper;
    }

    /**
     * Whether a call that ended with {@code code} is retried.
     *
     * @param code a call's final status code
     * @return {@code true} if {@code code} is in {@link #retryableCodes()}
     */
    public boolean isRetryable(Status.Code code) {
        return retryableCodes.contains(code);
    }

    /**
     * The wait before retry {@code retry} without jitter: {@code min(initialRetryDelay × 2^(retry−1), maxRetryDelay)},
     * in whole milliseconds.
     *
     * @param retry which retry, 1 for the first
     * @return the deterministic wait before that retry
     * @throws IllegalArgumentException if {@code retry < 1}
     */
    public Duration backoff(int retry) {
        return waitBefore(schedule, retry);
    }

    /**
     * The wait before retry {@code retry}, drawn at random within the range the class comment gives if a jitter is
     * set, else {@link #backoff(int)}: what the retry loop sleeps. Thread-safe.
     *
     * @param retry which retry, 1 for the first
     * @return the wait before that retry; a fresh random draw on each call when a jitter is set
     * @throws IllegalArgumentException if {@code retry < 1}
     */
    public Duration jitteredBackoff(int retry) {
        return waitBefore(jitteredSchedule, retry);
    }

    private static Duration waitBefore(IntervalFunction schedule, int retry) {
        Require.argument(retry >= 1, "retry", "be at least 1 (the first retry)", retry);
        return Duration.ofMillis(schedule.apply(Math.min(retry, SATURATED_RETRY)));
    }

    @Override
    public String toString() {
        return "ResilienceOptions[maxRetryAttempts=" + maxRetryAttempts + ", initialRetryDelay="
                + initialRetryDelay.toMillis() + " ms, maxRetryDelay=" + maxRetryDelay.toMillis()
                + " ms, requestTimeout=" + requestTimeout.toSeconds() + " s, jitter=" + jitter
                + ", retryableCodes=" + EnumSet.copyOf(retryableCodes) + "]";
    }

    /**
     * Collects options; {@link #build()} checks them. Not thread-safe; a builder can build many times.
     */
    public static final class Builder {
        private int maxRetryAttempts = 3;
        private Duration initialRetryDelay = Duration.ofMillis(100);
        private Duration maxRetryDelay = Duration.ofMillis(1000);
        private Duration requestTimeout = Duration.ofSeconds(30);
        private double jitter;
        private EnumSet<Status.Code> retryableCodes = EnumSet.copyOf(DEFAULT_RETRYABLE_CODES);
        private Sleeper sleeper = Sleeper.system();

        private Builder() {}

        /**
         * Retries in a row without progress, 1–10 (default 3). Checked by {@link #build()}.
         *
         * @param maxRetryAttempts the retry limit; a call that delivers progress resets the count
         * @return this builder
         */
        public Builder maxRetryAttempts(int maxRetryAttempts) {
            this.maxRetryAttempts = maxRetryAttempts;
            return this;
        }

        /**
         * The wait before the first retry, 50–5000 ms (default 100 ms). Checked by {@link #build()}.
         *
         * @param initialRetryDelay the first backoff, doubled for each further retry
         * @return this builder
         * @throws NullPointerException if {@code initialRetryDelay} is {@code null}
         */
        public Builder initialRetryDelay(Duration initialRetryDelay) {
            this.initialRetryDelay = Require.nonNull(initialRetryDelay, "initialRetryDelay");
            return this;
        }

        /**
         * The longest wait between retries, 500–10000 ms (default 1000 ms). Checked by {@link #build()}.
         *
         * @param maxRetryDelay the cap on every backoff
         * @return this builder
         * @throws NullPointerException if {@code maxRetryDelay} is {@code null}
         */
        public Builder maxRetryDelay(Duration maxRetryDelay) {
            this.maxRetryDelay = Require.nonNull(maxRetryDelay, "maxRetryDelay");
            return this;
        }

        /**
         * Unary deadline per attempt, stream idle timeout, 10–300 s (default 30 s). Checked by {@link #build()}.
         *
         * @param requestTimeout the timeout of one unary attempt, or the longest a stream may go without a message
         * @return this builder
         * @throws NullPointerException if {@code requestTimeout} is {@code null}
         */
        public Builder requestTimeout(Duration requestTimeout) {
            this.requestTimeout = Require.nonNull(requestTimeout, "requestTimeout");
            return this;
        }

        /**
         * The randomization factor of each wait, 0.0–1.0 (default 0, none): a wait is drawn from {@code 1 − jitter} to
         * {@code 1 + jitter} times the schedule's value before its cap, then capped at the max delay (see the class
         * comment). Checked by {@link #build()}.
         *
         * @param jitter the randomization factor
         * @return this builder
         */
        public Builder jitter(double jitter) {
            this.jitter = jitter;
            return this;
        }

        /**
         * Replaces the status table: the codes to retry. Must not contain OK. Checked by {@link #build()}.
         *
         * @param codes the codes to retry (copied now); an empty collection retries nothing
         * @return this builder
         * @throws NullPointerException if {@code codes} or one of its elements is {@code null}
         */
        public Builder retryableCodes(Collection<Status.Code> codes) {
            Require.nonNull(codes, "retryableCodes");
            EnumSet<Status.Code> copy = EnumSet.noneOf(Status.Code.class);
            for (Status.Code c : codes) {
                copy.add(Require.nonNull(c, "each of retryableCodes"));
            }
            this.retryableCodes = copy;
            return this;
        }

        /**
         * Replaces the status table: the codes to retry.
         *
         * @param codes the codes to retry; none retries nothing
         * @return this builder
         * @throws NullPointerException if {@code codes} or one of its elements is {@code null}
         */
        public Builder retryableCodes(Status.Code... codes) {
            Require.nonNull(codes, "retryableCodes");
            return retryableCodes(Arrays.asList(codes));
        }

        /**
         * What waits between attempts (default {@link Sleeper#system()}); tests inject a recording one.
         *
         * @param sleeper called on the retrying thread with each backoff
         * @return this builder
         * @throws NullPointerException if {@code sleeper} is {@code null}
         */
        public Builder sleeper(Sleeper sleeper) {
            this.sleeper = Require.nonNull(sleeper, "sleeper");
            return this;
        }

        /**
         * Checks every option and builds.
         *
         * @return new, immutable options; the builder can be changed and reused
         * @throws IllegalArgumentException naming the first option out of its range, its value and the range
         */
        public ResilienceOptions build() {
            Require.between(maxRetryAttempts, 1, 10, "maxRetryAttempts");
            requireWithin("initialRetryDelay", initialRetryDelay, Duration.ofMillis(50), Duration.ofMillis(5000));
            requireWithin("maxRetryDelay", maxRetryDelay, Duration.ofMillis(500), Duration.ofMillis(10_000));
            requireWithin("requestTimeout", requestTimeout, Duration.ofSeconds(10), Duration.ofSeconds(300));
            Require.argument(jitter >= 0.0 && jitter <= 1.0, "jitter", "be between 0.0 and 1.0", jitter); // and not NaN
            Require.argument(
                    !retryableCodes.contains(Status.Code.OK), "retryableCodes", "not contain OK", retryableCodes);
            return new ResilienceOptions(this);
        }

        private static void requireWithin(String option, Duration value, Duration min, Duration max) {
            // Require.between(Duration…) would print ISO-8601 (PT0.05S); the ranges read better in their own unit.
            boolean seconds = min.toMillis() % 1000 == 0 && max.toMillis() % 1000 == 0;
            Require.argument(
                    value.compareTo(min) >= 0 && value.compareTo(max) <= 0,
                    option,
                    "be between " + describe(min, seconds) + " and " + describe(max, seconds),
                    describe(value, seconds));
        }

        /** The duration in the unit of its range (s or ms), with decimals only when needed. */
        private static String describe(Duration d, boolean seconds) {
            if (d.isNegative() || d.getSeconds() > 1L << 40) {
                return d.toString();
            }
            java.math.BigDecimal nanos = java.math.BigDecimal.valueOf(d.getSeconds())
                    .movePointRight(9)
                    .add(java.math.BigDecimal.valueOf(d.getNano()));
            java.math.BigDecimal inUnit = nanos.movePointLeft(seconds ? 9 : 6).stripTrailingZeros();
            return inUnit.toPlainString() + (seconds ? " s" : " ms");
        }
    }
}
