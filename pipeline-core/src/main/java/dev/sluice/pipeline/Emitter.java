package dev.sluice.pipeline;

import java.util.List;
import java.util.Objects;

/**
 * How a {@link Source} pushes items into its pipeline. Used only from the thread that runs the source's
 * {@link Source#produce} (or threads it hands the emitter to, one at a time, with a happens-before edge between
 * them, such as a lock).
 *
 * @param <T> the type of the items
 * @since 0.1
 */
public interface Emitter<T> {

    /**
     * Hands one item to the next stage, waiting while the link to it is full: this wait is the backpressure a
     * source feels. Items are delivered in the order emitted.
     *
     * <p>A graceful stop ({@link PipelineHandle#stop}) reaches the source as an interrupt. The item being emitted
     * when it comes (or the first emitted after it) is still delivered, since the source has already taken it from
     * its input; the interrupt is then restored, so that the source's next wait for input ends it, and a later
     * {@code emit} throws {@link InterruptedException}. Items the source has already taken from its input go
     * through {@link #handOver}, which a stop does not refuse.
     *
     * @throws InterruptedException if the run is being cancelled, or stopped (see above), or the rest of the
     *     pipeline has finished early (after a {@code take}): let it propagate out of {@code produce}, which then
     *     ends cleanly
     * @param item the item, delivered to the next stage unless the run aborts first
     * @throws NullPointerException if {@code item} is null
     */
    void emit(T item) throws InterruptedException;

    /**
     * Hands a group of items to the next stage, in order, waiting for room as {@link #emit} does; the group moves
     * with fewer wake-ups than one {@code emit} per item. On a graceful stop, the whole group is delivered (see
     * {@link #emit}). The list is not kept after the call.
     *
     * @param items the items, in the order they are to be delivered; may be reused once the call returns
     * @throws InterruptedException as for {@link #emit}
     * @throws NullPointerException if the list or any of its items is null (checked before any is sent)
     */
    void emitAll(List<? extends T> items) throws InterruptedException;

    /**
     * Hands over items the source has already taken from its input (a message queue's consumer, a socket, a
     * callback buffer), which would be lost if the pipeline refused them: unlike {@link #emit} and {@link #emitAll},
     * a graceful stop neither refuses nor shortens a hand-over. Use it for exactly those items; anything the source
     * can still leave in its input should go through {@code emit}, so that a stop ends the source promptly.
     *
     * <p>The contract:
     *
     * <ul>
     *   <li><b>Order and blocking.</b> Every item is sent downstream in list order, waiting for room as
     *       {@link #emitAll} does; the wait is the source's backpressure.
     *   <li><b>Graceful stop</b> ({@link PipelineHandle#stop}). Every item is delivered, whether the stop came
     *       before the call or during it; an interrupt that arrives meanwhile does not end the call but is restored
     *       when it returns, so the source's next interruptible wait for input ends the source. A source that keeps
     *       handing over after a stop is ended by the stop's grace period, which aborts the run.
     *   <li><b>Abort</b> ({@link PipelineHandle#cancel}, a failure, the deadline, a grace period that runs out) or an
     *       early finish ({@code take}). The call ends at once with {@link InterruptedException}; items not yet sent
     *       then are not delivered (the run's summary counts the source's {@code itemsOut} exactly).
     *   <li><b>Threads.</b> As for every method of this interface: the thread that runs {@link Source#produce}, or
     *       a thread it hands the emitter to with a happens-before edge.
     * </ul>
     *
     * <p>The emitter a pipeline gives its source implements this contract. The default implementation, for
     * emitters made elsewhere (a test's double), is {@link #emitAll}.
     *
     * @param items the items, not null and holding no null; not kept after the call, so it may be reused
     * @throws InterruptedException if the run is aborting or has finished early (see above): let it propagate out
     *     of {@code produce}
     * @throws NullPointerException if the list or any of its items is null (checked before any is sent)
     * @since 0.1
     */
    default void handOver(List<? extends T> items) throws InterruptedException {
        emitAll(items);
    }

    /**
     * Like {@link #emit(Object)}, and asks to be told what becomes of the item: {@code ack} is called exactly once,
     * when the pipeline is done with the item (see {@link Disposition}), from whichever pipeline thread finished
     * it, and always before the run's {@code run()} or {@code await()} returns. If the item is not accepted (this
     * method throws), {@code ack} is called with {@link Disposition#RELEASED} before it throws. The item goes
     * through every stage as any other does (user functions see the plain value); items emitted with
     * {@link #emit(Object)} are not tracked and cost nothing extra. A {@link PositionTracker} turns the
     * acknowledgements of numbered items into the position a source may commit.
     *
     * <p>This default, for emitters outside a pipeline run, accepts nothing: it calls {@code ack} with
     * {@code RELEASED} and throws {@link UnsupportedOperationException}. A run's emitter tracks the item.
     *
     * <p>Incubating: may change in a minor release.
     *
     * @param item the item, not null
     * @param ack told once what became of the item, not null
     * @throws InterruptedException as for {@link #emit(Object)} ({@code ack} has been told {@code RELEASED})
     * @throws NullPointerException if {@code item} or {@code ack} is null ({@code ack}, if not null, has been told
     *     {@code RELEASED})
     * @since 0.1
     */
    default void emit(T item, Acknowledgement ack) throws InterruptedException {
        Objects.requireNonNull(ack, "ack must not be null");
        ack.done(Disposition.RELEASED);
        throw new UnsupportedOperationException("this emitter (" + getClass().getName() + ") does not track items;"
                + " emit(item, ack) is for the emitter a pipeline run gives its source");
    }

    /**
     * The run and stage this source runs in: correlation ID, attributes, meters.
     *
     * @return the source stage's context, the same for the whole run
     */
    StageContext context();
}
