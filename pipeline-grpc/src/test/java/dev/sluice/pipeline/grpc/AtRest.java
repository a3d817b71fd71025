package dev.sluice.pipeline.grpc;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;

/** Waits for a producer held back by backpressure to come to rest, for the backpressure tests. */
final class AtRest {

    private AtRest() {}

    /** Waits up to 30 s until {@code counter} has not changed for 500 ms. */
    static void awaitAtRest(AtomicLong counter) {
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(50))
                .until(unchangedFor(counter, Duration.ofMillis(500)));
    }

    /** True once {@code counter} has not changed for {@code quiet}, polled by Awaitility. */
    private static Callable<Boolean> unchangedFor(AtomicLong counter, Duration quiet) {
        long[] last = {counter.get(), System.nanoTime()};
        return () -> {
            long now = System.nanoTime();
            long value = counter.get();
            if (value != last[0]) {
                last[0] = value;
                last[1] = now;
                return false;
            }
            return now - last[1] >= quiet.toNanos();
        };
    }
}
