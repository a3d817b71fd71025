package dev.sluice.pipeline;

/**
 * Thrown by {@link Channel#send(Object)} and {@link Channel#send(Object, java.time.Duration)} on a channel
 * whose overflow policy is {@link Overflow#FAIL} when it is full. The item was not enqueued.
 */
public final class ChannelFullException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public ChannelFullException(int capacity) {
        super("channel is full (capacity " + capacity + ", overflow FAIL)");
    }
}
