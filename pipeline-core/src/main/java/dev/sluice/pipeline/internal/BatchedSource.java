package dev.sluice.pipeline.internal;

import java.util.List;

/**
 * A source whose items are already in hand (in memory, or just received in a group), so that the pipeline can
 * move them downstream a group at a time. A source whose next item may take long to arrive must not batch: an
 * item would wait in its group for the next one.
 */
public interface BatchedSource<T> {

    /** Whether this instance batches (an {@code Iterable} that is not a collection does not). */
    boolean batches();

    /** Produces every item, in groups of at most {@code batchSize}, each handed to {@code out} at once. */
    void produceBatches(BatchEmitter<T> out, int batchSize) throws Exception;

    /** Where a batched source puts its groups. */
    interface BatchEmitter<T> {
        /** Sends every item of the group downstream, waiting for room as needed. The list may be reused after. */
        void emitAll(List<T> items) throws InterruptedException;
    }
}
