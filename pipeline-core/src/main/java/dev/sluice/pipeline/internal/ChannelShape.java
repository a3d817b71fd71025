package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.internal.check.Require;

/**
 * How many threads may send and receive on a channel at the same time. A pipeline knows this for each of its
 * links and picks the cheapest queue that is still correct; users always get {@link #MPMC}.
 *
 * <p>A shape is a promise by the caller: two threads sending at once on a single-producer channel corrupt it
 * silently. That is why shapes other than {@code MPMC} never leave this package's callers.
 */
public enum ChannelShape {
    /** One sending thread, one receiving thread. */
    SPSC(true, true),
    /** Many sending threads, one receiving thread. */
    MPSC(false, true),
    /** One sending thread, many receiving threads. */
    SPMC(true, false),
    /** Any number of each. */
    MPMC(false, false);

    private final boolean singleProducer;
    private final boolean singleConsumer;

    ChannelShape(boolean singleProducer, boolean singleConsumer) {
        this.singleProducer = singleProducer;
        this.singleConsumer = singleConsumer;
    }

    public boolean singleProducer() {
        return singleProducer;
    }

    public boolean singleConsumer() {
        return singleConsumer;
    }

    /** The shape for the given numbers of producers and consumers (each at least 1). */
    public static ChannelShape of(int producers, int consumers) {
        Require.atLeast(producers, 1, "producers");
        Require.atLeast(consumers, 1, "consumers");
        if (producers == 1) {
            return consumers == 1 ? SPSC : SPMC;
        }
        return consumers == 1 ? MPSC : MPMC;
    }
}
