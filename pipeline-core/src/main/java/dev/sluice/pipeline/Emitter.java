package dev.sluice.pipeline;

/**
 * How a {@link Source} pushes items into its pipeline. Used only from the thread that runs the source's
 * {@link Source#produce} (or threads it hands the emitter to, one at a time, with a happens-before edge between
 * them, such as a lock).
 *
 * @param <T> the type of the items
 */
public interface Emitter<T> {

    /**
     * Hands one item to the next stage, waiting while the link to it is full: this wait is the backpressure a
     * source feels. Items are delivered in the order emitted.
     *
     * @throws InterruptedException if the run is being cancelled or stopped, or the rest of the pipeline has
     *     finished early (after a {@code take}): let it propagate out of {@code produce}, which then ends cleanly
     * @throws NullPointerException if {@code item} is null
     */
    void emit(T item) throws InterruptedException;

    /** The run and stage this source runs in: correlation ID, attributes, meters. */
    StageContext context();
}
