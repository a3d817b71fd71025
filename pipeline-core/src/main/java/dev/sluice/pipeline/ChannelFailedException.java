package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.check.Require;

/**
 * Thrown by a {@link Channel} operation after the channel was failed with {@link Channel#fail(Throwable)}.
 * {@link #getCause()} is the cause given to {@code fail}, never {@code null}.
 *
 * @since 0.1
 */
public final class ChannelFailedException extends ChannelClosedException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception; its message includes the cause's.
     *
     * @param cause the cause the channel was failed with
     * @throws NullPointerException if {@code cause} is {@code null}
     */
    public ChannelFailedException(Throwable cause) {
        super("channel failed: " + Require.nonNull(cause, "cause"), cause);
    }
}
