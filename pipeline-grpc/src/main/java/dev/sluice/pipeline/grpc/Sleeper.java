package dev.sluice.pipeline.grpc;

import java.time.Duration;

/**
 * How the retry loop waits between attempts. The default, {@link #system()}, parks the calling thread; tests
 * inject one that records the delays it was asked for, which makes the backoff schedule deterministic.
 *
 * <p>Called on the thread that runs the gRPC source or the unary call (a stage thread), never on a gRPC thread.
 *
 * @since 0.1
 */
@FunctionalInterface
public interface Sleeper {

    /**
     * Waits for {@code delay}.
     *
     * @param delay the backoff the retry loop computed for the next attempt; positive
     * @throws InterruptedException if the waiting thread is interrupted (the pipeline is being cancelled); the
     *     retry loop then gives up at once
     */
    void sleep(Duration delay) throws InterruptedException;

    /**
     * Sleeps with {@link Thread#sleep(Duration)}: interruptible, and on a virtual thread it frees the carrier.
     *
     * @return the default sleeper, which blocks the calling thread for the whole delay
     */
    static Sleeper system() {
        return Thread::sleep;
    }
}
