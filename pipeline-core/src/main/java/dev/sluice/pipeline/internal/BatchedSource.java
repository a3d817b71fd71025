package dev.sluice.pipeline.internal;

/**
 * A source whose items are already in hand (in memory, or just received in a group), so that the pipeline can
 * move them downstream a group at a time. A source whose next item may take long to arrive must not batch: an
 * item would wait in its group for the next one.
 */
interface BatchedSource<T> {

    /** Whether this instance batches (an {@code Iterable} that is not a collection does not). */
    boolean batches();

    /**
     * Produces every item, in groups of at most {@code batchSize}, each passed to {@code out} at once (with
     * {@link dev.sluice.pipeline.Emitter#emitAll}, or {@link dev.sluice.pipeline.Emitter#handOver} for items already taken from an
     * input). The lists may be reused after each call.
     */
    void produceBatches(dev.sluice.pipeline.Emitter<T> out, int batchSize) throws Exception;
}
