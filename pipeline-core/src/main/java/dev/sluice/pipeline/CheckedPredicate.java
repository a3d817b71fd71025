package dev.sluice.pipeline;

/** A stage predicate that may throw checked exceptions; an exception is handled by the stage's {@link ErrorPolicy}. */
@FunctionalInterface
public interface CheckedPredicate<T> {
    boolean test(T item) throws Exception;
}
