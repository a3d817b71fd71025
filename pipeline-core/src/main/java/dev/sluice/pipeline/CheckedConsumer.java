package dev.sluice.pipeline;

/**
 * A stage action that may throw checked exceptions, such as a sink's {@code repository::saveAll}. An exception
 * it throws is handled by the stage's {@link ErrorPolicy}.
 */
@FunctionalInterface
public interface CheckedConsumer<T> {
    void accept(T item) throws Exception;
}
