package dev.sluice.pipeline;

/**
 * Thrown by {@link Channel#send(Object)} and {@link Channel#send(Object, java.time.Duration)} on a channel
 * whose overflow policy is {@link Overflow#FAIL} when it is full. The item was not enqueued.
 *
 * @since 0.1
 */
public final class ChannelFullException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param capacity the full channel's capacity, given in the message
     */
    public ChannelFullException(int capacity) {
        super("channel is full (capacity " + capacity + ", overflow FAIL)");
    }
}
