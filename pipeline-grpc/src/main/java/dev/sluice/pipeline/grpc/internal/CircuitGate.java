package dev.sluice.pipeline.grpc.internal;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.concurrent.TimeUnit;

/**
 * One call's passage through an optional circuit breaker: {@link #enter()} before the call, then {@link #progress},
 * {@link #failure} or {@link #neutral}; the first of them settles the call, and later ones do nothing. Without a
 * breaker every method does nothing.
 *
 * <p>What counts: a call that delivered an item, or completed, is a success, settled as soon as its first item comes
 * (a stream may then run for hours without holding the breaker's permission, and its length never makes it a slow
 * call); a failure without progress whose code is in the status table (or an idle timeout, or a deadline) is a
 * failure; any other status (the server answered, the request was wrong) or our own cancellation is not recorded.
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
