package dev.sluice.pipeline;

/**
 * A stage function that may throw checked exceptions, so that {@code repository::load} or a gRPC call can be
 * passed as is. An exception it throws is handled by the stage's {@link ErrorPolicy}.
 */
@FunctionalInterface
public interface CheckedFunction<T, R> {
    R apply(T item) throws Exception;
}
