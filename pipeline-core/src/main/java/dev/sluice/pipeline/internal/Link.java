package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Channel;
import dev.sluice.pipeline.Overflow;
import dev.sluice.pipeline.internal.check.Require;
import java.util.List;
import java.util.function.Consumer;

/**
 * A channel as the pipeline uses it between stages: a {@link Channel} that can also tell whether a receiver is
 * parked waiting, so that a stage holding results back (to send them in a group) sends them at once instead.
 *
 * <p>{@link #create} picks the implementation: the lock-free {@link BoundedChannel} for {@link Overflow#BLOCK},
 * {@link Overflow#DROP_NEWEST} and {@link Overflow#FAIL}; the lock-based {@link BlockingQueueChannel} for
 * {@link Overflow#DROP_OLDEST}, whose send must take the oldest item out and put the new one in as one step: done
 * in two lock-free steps, a receiver racing with it could find the channel one item short, or make the sender drop
 * an item that the receive had already made room for (both found by the model checking in the tests). Dropping
 * the oldest is the policy of freshest-value feeds, where the latest item matters more than throughput.
 */
public interface Link<T> extends Channel<T> {

    /** Whether some receiver is parked waiting for an item. One volatile read. */
    boolean hasWaitingReceivers();

    /**
     * {@link #sendAll} for the pipeline's own lists, resumable: sends {@code group} from index {@code from} on,
     * waiting for room as {@code send} does, and stops early, with the interrupt flag set, if the thread is
     * interrupted. No copy, no null check: the caller guarantees that the list holds no null and that no other
     * thread touches it during the call.
     *
     * @return the index after the last item sent: {@code group.size()} unless interrupted
     * @throws dev.sluice.pipeline.ChannelClosedException if the channel is closed or failed
     * @throws dev.sluice.pipeline.ChannelFullException if full under {@code FAIL}
     */
    int sendGroup(List<T> group, int from);

    /** A channel for the given shape; callers must keep the shape's promise about concurrent senders and receivers. */
    static <T> Link<T> create(int capacity, Overflow overflow, Consumer<? super T> onDrop, ChannelShape shape) {
        requireCapacity(capacity);
        Require.nonNull(overflow, "overflow");
        if (overflow == Overflow.DROP_OLDEST) {
            return new BlockingQueueChannel<>(capacity, overflow, onDrop);
        }
        return BoundedChannel.create(capacity, overflow, onDrop, shape);
    }

    /**
     * Checks a channel's capacity: 1 to 2^30, the largest ring a channel builds (whatever the policy, so that a
     * channel's limits do not change with its overflow policy).
     *
     * @return {@code capacity}
     * @throws IllegalArgumentException naming the value and the range
     */
    static int requireCapacity(int capacity) {
        Require.argument(
                capacity >= 1 && capacity <= RingBuffers.MAX_CAPACITY,
                "capacity",
                "be between 1 and " + RingBuffers.MAX_CAPACITY + " (2^30, the largest ring a channel's queue can hold)",
                capacity);
        return capacity;
    }
}
