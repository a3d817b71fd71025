package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.internal.check.Require;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.grpc.Channel;
import java.time.Duration;

/**
 * Circuit breakers for gRPC targets, one per target and shared by every call to it, as the channel is.
 *
 * <pre>{@code
 * CircuitBreakerRegistry breakers = CircuitBreakerRegistry.of(GrpcCircuitBreakers.defaultConfig());
 * CircuitBreaker users = GrpcCircuitBreakers.forTarget(breakers, channel);   // named after channel.authority()
 * }</pre>
 *
 * <h2>What a call records</h2>
 * One rule for a {@link GrpcSource}'s calls and a {@link GrpcUnary}'s alike, applied to each call (each attempt):
 * <ul>
 *   <li><b>a success</b>: a call that completed, or delivered at least one item before it failed. A stream is
 *       settled at its first item, so it never holds the breaker's permission while it runs, and its length never
 *       makes it a slow call.</li>
 *   <li><b>a failure</b>: a call that ended without an item, with a code of its status table (of its
 *       {@link ResilienceOptions}, or the default table without them), or with DEADLINE_EXCEEDED (not retried, but a
 *       target that misses its deadlines is failing), or with a response it could not parse, or a stream idle
 *       timeout.</li>
 *   <li><b>nothing</b>: any other status (the target answered: the request was wrong), and a cancellation the
 *       caller asked for.</li>
 * </ul>
 * While the breaker is open, calls fail fast with a {@link GrpcCallException} whose cause is resilience4j's
 * {@code CallNotPermittedException}, and no request reaches the target.
 *
 * <h2>Metrics</h2>
 * Sluice publishes no meter of the breakers' own: resilience4j does, through its binder in
 * {@code io.github.resilience4j:resilience4j-micrometer} (a dependency to add; Sluice does not bring it). Bind the
 * registry the breakers come from, before or after {@link #forTarget} makes them:
 * <pre>{@code
 * CircuitBreakerRegistry breakers = CircuitBreakerRegistry.of(GrpcCircuitBreakers.defaultConfig());
 * TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(meterRegistry);
 * }</pre>
 * Each breaker then has {@code resilience4j.circuitbreaker.state} (a gauge per state, tagged {@code name} and
 * {@code state}, 1 for the current one), {@code resilience4j.circuitbreaker.calls} and the rest of resilience4j's set.
 *
 * @since 0.1
 */
public final class GrpcCircuitBreakers {

    /** Consecutive failed calls that open the breaker, by default. */
    public static final int DEFAULT_FAILURE_THRESHOLD = 5;
    /** How long the breaker stays open before it lets a trial call through, by default. */
    public static final Duration DEFAULT_OPEN_DURATION = Duration.ofSeconds(30);

    private GrpcCircuitBreakers() {}

    /**
     * Opens after {@value #DEFAULT_FAILURE_THRESHOLD} consecutive failed calls, for 30 seconds, then lets one trial
     * call through (half-open): its success closes the breaker, its failure opens it again.
     *
     * @return a new config with the default threshold and open duration, and no slow-call rule
     */
    public static CircuitBreakerConfig defaultConfig() {
        return config(DEFAULT_FAILURE_THRESHOLD, DEFAULT_OPEN_DURATION);
    }

    /**
     * Opens after {@code failureThreshold} consecutive failed calls, for {@code openDuration}, then lets one trial
     * call through.
     *
     * @param failureThreshold consecutive failed calls that open the breaker; also the size of its count-based window
     * @param openDuration how long the breaker refuses calls before its half-open trial call
     * @return a new config; a call is never counted as slow, however long it runs
     * @throws IllegalArgumentException if {@code failureThreshold < 1} or {@code openDuration} is not positive
     */
    public static CircuitBreakerConfig config(int failureThreshold, Duration openDuration) {
        Require.atLeast(failureThreshold, 1, "failureThreshold");
        Require.positive(openDuration, "openDuration");
        // A count-based window as long as the threshold, opening at a 100 % failure rate: n consecutive failures.
        return CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(failureThreshold)
                .minimumNumberOfCalls(failureThreshold)
                .failureRateThreshold(100.0f)
                .waitDurationInOpenState(openDuration)
                .permittedNumberOfCallsInHalfOpenState(1)
                // Never "slow": a stream is settled at its first item, and a long call is not a failing target.
                .slowCallDurationThreshold(Duration.ofDays(365))
                .slowCallRateThreshold(100.0f)
                .build();
    }

    /**
     * The breaker of {@code channel}'s target in {@code registry}, named after {@link Channel#authority()}.
     *
     * @param registry where the breaker is looked up, or created with the registry's default config
     * @param channel the channel whose authority names the target
     * @return the registry's breaker for that authority: the same instance for every channel to the same target
     * @throws NullPointerException if {@code registry} or {@code channel} is {@code null}
     */
    public static CircuitBreaker forTarget(CircuitBreakerRegistry registry, Channel channel) {
        Require.nonNull(registry, "registry");
        Require.nonNull(channel, "channel");
        return registry.circuitBreaker(channel.authority());
    }
}
