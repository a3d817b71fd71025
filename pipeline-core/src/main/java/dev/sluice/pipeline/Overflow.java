package dev.sluice.pipeline;

/**
 * What a {@link Channel} does with an item sent while it is full. Chosen once, when the channel is created.
 *
 * <p>Only {@link #BLOCK} ever makes a sender wait; the other policies decide at once. Every item a policy
 * discards is counted ({@link Channel#droppedCount()}) and handed to the channel's drop callback, if it has one.
 *
 * @since 0.1
 */
public enum Overflow {
    /** The sender waits until there is room: backpressure. The default. */
    BLOCK,
    /** The oldest buffered item is discarded to make room for the new one: the freshest data wins. */
    DROP_OLDEST,
    /** The incoming item is discarded and the buffer is left as it is. */
    DROP_NEWEST,
    /** The send fails with {@link ChannelFullException}; nothing is discarded. */
    FAIL
}
