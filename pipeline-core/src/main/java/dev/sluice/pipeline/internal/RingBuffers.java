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
 * Picks the JCTools array queue for a channel's shape.
 *
 * <p>JCTools ships each queue twice: on {@code sun.misc.Unsafe}, and on {@code java.util.concurrent.atomic}
 * field updaters ({@code org.jctools.queues.atomic}). JDK 24 and later print a warning the first time a library
 * calls {@code Unsafe}'s memory access methods, and will remove them. The atomic flavour is the default;
 * {@code QueueFlavourBenchmark} compares the two. The system property {@value #FLAVOUR_PROPERTY} ({@code atomic}
 * or {@code unsafe}) overrides the default.
 *
 * <p>The queue's own capacity is a power of two at least the channel's, so a queue offer after a successful
 * reservation in {@link BoundedChannel} finds room, apart from a transient moment in the multi-consumer queues: a
 * consumer claims a slot (advancing the consumer index, which is what frees room in the channel's count) before it
 * has read and released it, and an offer to that slot must wait. The multi-consumer queues therefore get twice the
 * slots, so that the offer an admitted send makes lands on a slot released a whole channel's worth of items ago
 * instead of waiting for a consumer still reading it ({@code HandOffBenchmark} at small capacities shows the cost of
 * that wait). The single-consumer queues release a slot before advancing their consumer index and need no more than
 * the channel's capacity.
 */
final class RingBuffers {

    static final String FLAVOUR_PROPERTY = "sluice.channel.queues";

    private static final boolean UNSAFE = "unsafe".equals(System.getProperty(FLAVOUR_PROPERTY, "atomic"));

    private RingBuffers() {}

    /** The name of the flavour in use: {@code atomic} or {@code unsafe}. */
    static String flavour() {
        return UNSAFE ? "unsafe" : "atomic";
    }

    /** The largest channel these queues can hold: JCTools' largest array queue. */
    static final int MAX_CAPACITY = 1 << 30;

    /** A queue for a channel of {@code capacity} (1 to {@link #MAX_CAPACITY}, checked by the caller). */
    static <T> MessagePassingQueue<T> create(ChannelShape shape, int capacity) {
        // MpmcArrayQueue refuses capacity 1; the channel enforces its exact capacity itself anyway. Past half the
        // maximum, a multi-consumer queue keeps the channel's capacity and its offers wait out the rare claimed slot.
        int size = shape.singleConsumer() || capacity > MAX_CAPACITY / 2 ? Math.max(2, capacity) : capacity * 2;
        MessagePassingQueue<T> queue;
        if (UNSAFE) {
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
        return queue;
    }
}
