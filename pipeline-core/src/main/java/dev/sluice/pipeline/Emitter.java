package dev.sluice.pipeline;

import java.util.List;

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
     * <p>A graceful stop ({@link PipelineHandle#stop}) reaches the source as an interrupt. The item being emitted
     * when it comes (or the first emitted after it) is still delivered, since the source has already taken it from
     * its input; the interrupt is then restored, so that the source's next wait for input ends it, and a later
     * {@code emit} throws {@link InterruptedException}.
     *
     * @throws InterruptedException if the run is being cancelled, or stopped (see above), or the rest of the
     *     pipeline has finished early (after a {@code take}): let it propagate out of {@code produce}, which then
     *     ends cleanly
     * @throws NullPointerException if {@code item} is null
     */
    void emit(T item) throws InterruptedException;

    /**
     * Hands a group of items to the next stage, in order, waiting for room as {@link #emit} does; the group moves
     * with fewer wake-ups than one {@code emit} per item. On a graceful stop, the whole group is delivered (see
     * {@link #emit}). The list is not kept after the call.
     *
     * @throws InterruptedException as for {@link #emit}
     * @throws NullPointerException if the list or any of its items is null (checked before any is sent)
     */
    void emitAll(List<? extends T> items) throws InterruptedException;

    /** The run and stage this source runs in: correlation ID, attributes, meters. */
    StageContext context();
}
