package dev.sluice.pipeline;

/**
 * What became of one source item that was emitted with an {@link Acknowledgement} ({@link Emitter#emit(Object,
 * Acknowledgement)}). An item that stands for several results (a {@code flatMap}'s children) gets the most severe
 * of its results' dispositions, in the order {@code FILTERED < PROCESSED < DROPPED < SKIPPED < DEAD_LETTERED <
 * RELEASED < FAILED}: so an item is {@code PROCESSED} only when every child was processed or filtered, and
 * {@code RELEASED} when any child was left unfinished. A value made from a {@code batch} (the list, or anything a
 * later stage derives from it) stands for all of the batch's items: they are acknowledged together, once everything
 * derived from the batch is done, each with the most severe disposition of it all.
 *
 * <p>Incubating: may change in a minor release.
 *
 * @since 0.1
 */
public enum Disposition {
    /**
     * The sink returned from handling everything derived from the item: all of a {@code flatMap}'s children, the
     * {@code batch} it was part of.
     */
    PROCESSED,
    /** A {@code filter} dropped the item, or a {@code flatMap} made no children of it. */
    FILTERED,
    /** A stage's function failed on the item (or a child) and its error policy skipped it. */
    SKIPPED,
    /** A stage's function failed on the item (or a child) and its error policy handed it to a dead-letter sink. */
    DEAD_LETTERED,
    /** A {@code buffer}'s overflow policy dropped the item (or a child). */
    DROPPED,
    /**
     * The run ended before the item was finished: a stop, a cancellation, a failure elsewhere, the deadline, or a
     * {@code take} that had reached its limit. Nothing is claimed about it: a source that can replay should.
     */
    RELEASED,
    /** A stage's function failed on the item (or a child) under {@link ErrorPolicy#fail()}: it failed the run. */
    FAILED;

    /**
     * Whether the pipeline is done with the item for good, so that a source need not replay it: true for every
     * value but {@link #RELEASED} and {@link #FAILED}.
     *
     * @return {@code true} unless the item must be replayed to be processed
     */
    public boolean isComplete() {
        return this != RELEASED && this != FAILED;
    }
}
