package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.check.Require;

/**
 * An item a stage failed to process, as handed to a dead-letter handler ({@link ErrorPolicy#deadLetter}).
 *
 * @param stage the name of the stage that failed
 * @param item the item the stage was given (for a batch sink, the whole batch)
 * @param error what the stage's function threw
 * @since 0.1
 */
public record DeadLetter(String stage, Object item, Throwable error) {
    /**
     * Checks that every component is present.
     *
     * @throws NullPointerException if {@code stage}, {@code item} or {@code error} is {@code null}
     */
    public DeadLetter {
        Require.nonNull(stage, "stage");
        Require.nonNull(item, "item");
        Require.nonNull(error, "error");
    }
}
