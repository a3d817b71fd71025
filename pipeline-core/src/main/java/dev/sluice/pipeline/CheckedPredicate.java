package dev.sluice.pipeline;

/**
 * A stage predicate that may throw checked exceptions; an exception is handled by the stage's {@link ErrorPolicy}.
 *
 * @param <T> the type of the items tested
 * @since 0.1
 */
@FunctionalInterface
public interface CheckedPredicate<T> {
    /**
     * Tests one item, on the stage's thread.
     *
     * @param item the item the stage received
     * @return {@code true} to pass the item downstream, {@code false} to drop it
     * @throws Exception any failure, handed to the stage's {@link ErrorPolicy}
     */
    boolean test(T item) throws Exception;
}
