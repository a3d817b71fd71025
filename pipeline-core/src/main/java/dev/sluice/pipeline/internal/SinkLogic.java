package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.StageContext;
import java.util.List;

/** What a {@link dev.sluice.pipeline.Sink} does, opened once per run on the sink stage's thread. */
@FunctionalInterface
public interface SinkLogic<T, R> {

    SinkLogic.State<T, R> open(StageContext context) throws Exception;

    /** The run ended before the sink could be opened (it aborted first); a sink that owes a signal gives it. */
    default void abandoned(Throwable cause) {}

    /** One run's sink. Used from the sink stage's thread only. */
    interface State<T, R> {

        /**
         * Takes one item.
         *
         * @return {@code false} if the sink wants no more items (a cancelled subscriber): the run then finishes
         *     early, as after a {@code take}
         */
        boolean accept(T item) throws Exception;

        /**
         * How many of the items accepted last (those whose {@link #accept} returned normally) the sink has not made
         * durable yet: they are acknowledged as processed once no longer counted, or when {@link #finish} returns.
         * Read after each {@link #accept}; not used by sinks that take groups.
         */
        default int unconfirmed() {
            return 0;
        }

        /** If positive, the sink takes items in groups of up to this many, through {@link #acceptGroup}. */
        default int groupSize() {
            return 0;
        }

        /** Takes a group of items, when {@link #groupSize()} is positive. The list is reused after. */
        default boolean acceptGroup(List<T> items) throws Exception {
            throw new UnsupportedOperationException();
        }

        /**
         * Whether the sink wants no more items even though {@link #accept} has not said so yet (a subscriber that
         * cancelled from another thread): the run then finishes early. Checked between groups, and when the sink
         * thread is interrupted while it waits for input.
         */
        default boolean finishedEarly() {
            return false;
        }

        /** The input ended normally (or the sink asked to stop): the sink's value. */
        R finish() throws Exception;

        /**
         * The run is aborting (failure, cancellation, deadline), or {@link #finish} threw; the sink releases what it
         * holds.
         */
        default void abort(Throwable cause) {}
    }
}
