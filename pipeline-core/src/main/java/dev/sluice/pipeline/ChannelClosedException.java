package dev.sluice.pipeline;

/**
 * Thrown by a {@link Channel} operation that cannot proceed because the channel is closed: a send after
 * {@link Channel#close()} or {@link Channel#fail(Throwable)}, or a receive after the channel was closed and
 * every buffered item was delivered.
 *
 * <p>A channel that ended abortively throws the subtype {@link ChannelFailedException}, which carries the
 * cause.
 *
 * @since 0.1
 */
public class ChannelClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message says which operation found the channel closed
     */
    public ChannelClosedException(String message) {
        super(message);
    }

    /**
     * Creates the exception for a subtype that carries why the channel ended.
     *
     * @param message says which operation found the channel closed
     * @param cause why the channel ended
     */
    protected ChannelClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
