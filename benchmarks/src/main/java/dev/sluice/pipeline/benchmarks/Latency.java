package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * The latency of an item through the three-stage pipeline (source → map(x + 1) → sink) when the source is paced:
 * item {@code i} is due at {@code start + i × interval}, the source waits for that moment (spinning, since the
 * intervals are shorter than a park), and the item carries its due time, not the time it was actually emitted, so
 * that a source held back by a full link counts the wait as latency (no coordinated omission). The sink records
 * {@code now - due} in nanoseconds. Each run returns the checked number of items recorded.
 */
final class Latency {

    /** Time before the first item is due, so that every stage has started. */
    private static final long LEAD_NANOS = 1_000_000;

    private Latency() {}

    /** How the paced source waits for an item's due time. */
    enum Pacer {
        /** Polls the clock with {@link Thread#yield()} between polls. */
        YIELD,
        /** Polls the clock with {@link Thread#onSpinWait()} between polls. */
        SPIN;

        long waitUntil(long due) {
            while (System.nanoTime() < due) {
                if (this == YIELD) {
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            }
            return due;
        }
    }

    /** The Sluice pipeline as a user writes it, with its default links. */
    static long sluice(int n, long intervalNanos, Pacer pacer, Histogram histogram) throws InterruptedException {
        check(n, intervalNanos);
        long start = System.nanoTime() + LEAD_NANOS;
        long recorded = Pipeline.from((Source<Long>) emitter -> {
                    for (int i = 0; i < n; i++) {
                        emitter.emit(pacer.waitUntil(start + i * intervalNanos));
                    }
                })
                .map(due -> due + 1)
                .to(Sink.reduce(0L, (count, stamp) -> {
                    histogram.recordValue(Math.max(0, System.nanoTime() - (stamp - 1)));
                    return count + 1;
                }))
                .run()
                .value();
        return Items.expect("latencies recorded", n, recorded);
    }

    /**
     * Reactor with a {@code publishOn} between stages, as in the three-stage benchmark: the source on
     * {@code sourceThread}, the map on {@code mapThread}, the sink on {@code sinkThread}.
     */
    static long reactor(
            int n,
            long intervalNanos,
            Pacer pacer,
            Histogram histogram,
            Scheduler sourceThread,
            Scheduler mapThread,
            Scheduler sinkThread) {
        check(n, intervalNanos);
        long start = System.nanoTime() + LEAD_NANOS;
        AtomicLong next = new AtomicLong();
        Long recorded = Flux.<Long>generate(sink -> {
                    long i = next.getAndIncrement();
                    if (i >= n) {
                        sink.complete();
                    } else {
                        sink.next(pacer.waitUntil(start + i * intervalNanos));
                    }
                })
                .subscribeOn(sourceThread)
                .publishOn(mapThread)
                .map(due -> due + 1)
                .publishOn(sinkThread)
                .reduce(0L, (count, stamp) -> {
                    histogram.recordValue(Math.max(0, System.nanoTime() - (stamp - 1)));
                    return count + 1;
                })
                .block();
        return Items.expect("latencies recorded", n, recorded == null ? -1 : recorded);
    }

    private static void check(int n, long intervalNanos) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be at least 1, got " + n);
        }
        if (intervalNanos < 1) {
            throw new IllegalArgumentException("intervalNanos must be at least 1, got " + intervalNanos);
        }
    }
}
