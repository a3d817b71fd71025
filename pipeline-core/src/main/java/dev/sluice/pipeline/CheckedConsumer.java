package dev.sluice.pipeline;

/**
 * A stage action that may throw checked exceptions, such as a sink's {@code repository::saveAll}. An exception
 * it throws is handled by the stage's {@link ErrorPolicy}.
 *
 * @param <T> the type of the items consumed
 * @since 0.1
 */
@FunctionalInterface
public interface CheckedConsumer<T> {
    /**
     * Consumes one item (for a batch sink, one batch), on the stage's thread.
     *
     * @param item the item the stage received
     * @throws Exception any failure, handed to the stage's {@link ErrorPolicy}
     */
    void accept(T item) throws Exception;
}
