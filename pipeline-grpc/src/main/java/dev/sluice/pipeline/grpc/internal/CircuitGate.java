package dev.sluice.pipeline.grpc.internal;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.concurrent.TimeUnit;

/**
 * One call's passage through an optional circuit breaker: {@link #enter()} before the call, then {@link #progress},
 * {@link #failure} or {@link #neutral}; the first of them settles the call, and later ones do nothing. Without a
 * breaker every method does nothing.
 *
 * <p>What counts as which is {@link RetryLoop}'s rule; the gate only makes sure a call is settled once, and that a
 * stream settled at its first item never holds the breaker's permission while it runs.
 */
public final class CircuitGate {
    private final CircuitBreaker breaker;
    private long startNanos;
    private boolean settled = true;

    public CircuitGate(CircuitBreaker breaker) {
        this.breaker = breaker;
    }

    /** Takes a permission, or throws if the breaker refuses one (open, or half-open with its trials taken). */
    public void enter() throws CallNotPermittedException {
        if (breaker != null && !breaker.tryAcquirePermission()) {
            throw CallNotPermittedException.createCallNotPermittedException(breaker);
        }
        startNanos = System.nanoTime();
        settled = false;
    }

    /** The call made progress (its first item, or its completion): a success. */
    public void progress() {
        if (settle()) {
            breaker.onSuccess(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
        }
    }

    public void failure(Throwable cause) {
        if (settle()) {
            breaker.onError(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS, cause);
        }
    }

    public void neutral() {
        if (settle()) {
            breaker.releasePermission();
        }
    }

    private boolean settle() {
        if (settled) {
            return false;
        }
        settled = true;
        return breaker != null;
    }
}
