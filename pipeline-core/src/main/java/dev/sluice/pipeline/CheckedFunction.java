package dev.sluice.pipeline;

/**
 * A stage function that may throw checked exceptions, so that {@code repository::load} or a gRPC call can be
 * passed as is. An exception it throws is handled by the stage's {@link ErrorPolicy}.
 *
 * @param <T> the type of the items received
 * @param <R> the type of the results passed downstream
 * @since 0.1
 */
@FunctionalInterface
public interface CheckedFunction<T, R> {
    /**
     * Maps one item, on the stage's thread.
     *
     * @param item the item the stage received
     * @return the result to pass downstream
     * @throws Exception any failure, handed to the stage's {@link ErrorPolicy}
     */
    R apply(T item) throws Exception;
}
