package dev.sluice.pipeline.grpc;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.grpc.Channel;
import java.time.Duration;
import java.util.Objects;

/**
 * Circuit breakers for gRPC targets, one per target and shared by every call to it, as the channel is.
 *
 * <pre>{@code
 * CircuitBreakerRegistry breakers = CircuitBreakerRegistry.of(GrpcCircuitBreakers.defaultConfig());
 * CircuitBreaker users = GrpcCircuitBreakers.forTarget(breakers, channel);   // named after channel.authority()
 * }</pre>
 *
 * <p>What a Sluice call reports to its breaker: a call that completed, or delivered at least one item before it
 * failed, is a success; a failure with no item and a code of the status table (of the call's
 * {@link ResilienceOptions}, or the default table without them), or a stream idle timeout, is a failure; any other
 * status (the target answered: the request was wrong) and a cancellation are not recorded. While the breaker is open, calls fail fast with a {@link GrpcCallException} whose cause is
 * resilience4j's {@code CallNotPermittedException}, and no request reaches the target.
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
     */
    public static CircuitBreakerConfig defaultConfig() {
        return config(DEFAULT_FAILURE_THRESHOLD, DEFAULT_OPEN_DURATION);
    }

    /**
     * Opens after {@code failureThreshold} consecutive failed calls, for {@code openDuration}, then lets one trial
     * call through.
     *
     * @throws IllegalArgumentException if {@code failureThreshold < 1} or {@code openDuration} is not positive
     */
    public static CircuitBreakerConfig config(int failureThreshold, Duration openDuration) {
        if (failureThreshold < 1) {
            throw new IllegalArgumentException("failureThreshold must be at least 1, got " + failureThreshold);
        }
        Objects.requireNonNull(openDuration, "openDuration must not be null");
        if (openDuration.isNegative() || openDuration.isZero()) {
            throw new IllegalArgumentException("openDuration must be positive, got " + openDuration);
        }
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

    /** The breaker of {@code channel}'s target in {@code registry}, named after {@link Channel#authority()}. */
    public static CircuitBreaker forTarget(CircuitBreakerRegistry registry, Channel channel) {
        Objects.requireNonNull(registry, "registry must not be null");
        Objects.requireNonNull(channel, "channel must not be null");
        return registry.circuitBreaker(channel.authority());
    }
}
