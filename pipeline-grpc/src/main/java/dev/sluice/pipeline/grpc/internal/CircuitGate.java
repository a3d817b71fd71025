package dev.sluice.pipeline.grpc.internal;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.concurrent.TimeUnit;

/**
 * One call's passage through an optional circuit breaker: {@link #enter()} before the call, then exactly one of
 * {@link #progress}, {@link #failure} or {@link #neutral}. Without a breaker every method does nothing.
 *
 * <p>What counts: a call that completed, or delivered at least one item before failing, is a success (a long
 * stream that breaks now and then is a healthy target); a failure without progress whose code is in the status
 * table (or an idle timeout) is a failure; any other status (the server answered, the request was wrong) or our
 * own cancellation is not recorded.
 */
public final class CircuitGate {
    private final CircuitBreaker breaker;
    private long startNanos;

    public CircuitGate(CircuitBreaker breaker) {
        this.breaker = breaker;
    }

    /** Takes a permission, or throws if the breaker refuses one (open, or half-open with its trials taken). */
    public void enter() throws CallNotPermittedException {
        if (breaker != null && !breaker.tryAcquirePermission()) {
            throw CallNotPermittedException.createCallNotPermittedException(breaker);
        }
        startNanos = System.nanoTime();
    }

    public void progress() {
        if (breaker != null) {
            breaker.onSuccess(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
        }
    }

    public void failure(Throwable cause) {
        if (breaker != null) {
            breaker.onError(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS, cause);
        }
    }

    public void neutral() {
        if (breaker != null) {
            breaker.releasePermission();
        }
    }
}
