package dev.sluice.pipeline.internal;

import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.MpmcArrayQueue;
import org.jctools.queues.MpscArrayQueue;
import org.jctools.queues.QueueProgressIndicators;
import org.jctools.queues.SpmcArrayQueue;
import org.jctools.queues.SpscArrayQueue;
import org.jctools.queues.atomic.MpmcAtomicArrayQueue;
import org.jctools.queues.atomic.MpscAtomicArrayQueue;
import org.jctools.queues.atomic.SpmcAtomicArrayQueue;
import org.jctools.queues.atomic.SpscAtomicArrayQueue;

/**
 * Picks the {@link ItemRing} for a channel's shape.
 *
 * <p>By default a channel keeps its items in a ring of Sluice's own, indexed by the channel's reservations
 * ({@link SingleConsumerRing}, {@link MultiConsumerRing}; ADR 0013). The system property {@value #FLAVOUR_PROPERTY}
 * picks another flavour, for measurement: {@code atomic} for JCTools' array queues on field updaters, {@code unsafe}
 * for JCTools' queues on {@code sun.misc.Unsafe} (JDK 24 and later warn about those; ADR 0009). {@code
 * QueueFlavourBenchmark} compares them.
 *
 * <p>A ring holds at least the channel's capacity, rounded up to a power of two, so a put after a successful
 * reservation finds room, apart from a transient moment in the multi-consumer rings: a receiver claims a slot
 * (advancing the consumer index, which is what frees room in the channel's count) before it has read and released
 * it, and a put to that slot must wait. The multi-consumer rings therefore get twice the slots (ADR 0008), so that
 * the put an admitted send makes lands on a slot released a whole channel's worth of items ago; past 2^29 a
 * multi-consumer ring keeps the channel's capacity (2^30 is the largest ring) and its puts wait out the rare claimed
 * slot. The single-consumer
 * rings release a slot before advancing their consumer index and need no more than the channel's capacity.
 */
final class RingBuffers {

    static final String FLAVOUR_PROPERTY = "sluice.channel.queues";

    /** The property's value as given; checked by {@link #create}, so that a wrong value fails every channel. */
    private static final String FLAVOUR = System.getProperty(FLAVOUR_PROPERTY, "sluice");

    private RingBuffers() {}

    /** The name of the flavour in use: {@code sluice}, {@code atomic} or {@code unsafe}. */
    static String flavour() {
        return FLAVOUR;
    }

    /** The largest channel these rings can hold. */
    static final int MAX_CAPACITY = 1 << 30;

    /** A ring for a channel of {@code capacity} (1 to {@link #MAX_CAPACITY}, checked by the caller). */
    static <T> ItemRing<T> create(ChannelShape shape, int capacity) {
        return create(FLAVOUR, shape, capacity);
    }

    /**
     * A ring of the given flavour, whatever the system property says.
     *
     * @throws IllegalStateException if {@code flavour} is none of {@code sluice}, {@code atomic}, {@code unsafe}
     */
    static <T> ItemRing<T> create(String flavour, ChannelShape shape, int capacity) {
        requireKnownFlavour(flavour);
        boolean doubled = !shape.singleConsumer() && capacity <= MAX_CAPACITY / 2;
        if (flavour.equals("sluice")) {
            if (shape.singleConsumer()) {
                return new SingleConsumerRing<>(capacity);
            }
            return new MultiConsumerRing<>(ItemRing.powerOfTwoAtLeast(doubled ? capacity * 2 : capacity));
        }
        // MpmcArrayQueue refuses capacity 1; the channel enforces its exact capacity itself anyway.
        int size = doubled ? capacity * 2 : Math.max(2, capacity);
        MessagePassingQueue<T> queue;
        if (flavour.equals("unsafe")) {
            queue = switch (shape) {
                case SPSC -> new SpscArrayQueue<>(size);
                case MPSC -> new MpscArrayQueue<>(size);
                case SPMC -> new SpmcArrayQueue<>(size);
                case MPMC -> new MpmcArrayQueue<>(size);
            };
        } else {
            queue = switch (shape) {
                case SPSC -> new SpscAtomicArrayQueue<>(size);
                case MPSC -> new MpscAtomicArrayQueue<>(size);
                case SPMC -> new SpmcAtomicArrayQueue<>(size);
                case MPMC -> new MpmcAtomicArrayQueue<>(size);
            };
        }
        if (!(queue instanceof QueueProgressIndicators)) {
            throw new AssertionError(queue.getClass() + " does not expose its consumer index");
        }
        return new QueueRing<>(queue, queue.capacity(), !shape.singleConsumer());
    }

    private static void requireKnownFlavour(String flavour) {
        switch (flavour) {
            case "sluice", "atomic", "unsafe" -> {}
            default ->
                throw new IllegalStateException("system property " + FLAVOUR_PROPERTY + " is '" + flavour
                        + "'; expected sluice (the default), atomic or unsafe");
        }
    }
}
