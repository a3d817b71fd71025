package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.check.Require;

/**
 * What a stage does when its function throws for one item. Set per stage with {@link Pipeline#onError} (for
 * the stage just added) or {@link Sink#onError} (for the sink).
 *
 * <ul>
 *   <li>{@link #fail()}, the default: the run fails; the failure names the stage and carries the exception.</li>
 *   <li>{@link #skip()}: the item is counted as skipped and logged (WARN for the first few of each stage, DEBUG
 *       after that), and the stage goes on with the next.</li>
 *   <li>{@link #deadLetter(CheckedConsumer)}: the item and the exception go to a handler, on the thread of the stage
 *       that ran the function (one of {@code mapConcurrent}'s workers), one call at a time per stage, and the stage
 *       goes on; the item is counted as failed. If the handler itself throws, the run fails with the handler's
 *       exception, the item's own error added to it as suppressed.</li>
 * </ul>
 * {@link InterruptedException} is never handled by a policy: it means the run is being cancelled. Nor is anything a
 * function throws once its stage is no longer wanted: after the run began to abort (cancel, failure elsewhere,
 * deadline, a stop's grace passed) or a stage after it finished early ({@code take}), a call cut short by the
 * interrupt may report it its own way (a gRPC {@code CANCELLED}, a {@code ClosedByInterruptException}, a wrapped
 * {@code InterruptedException}); the item is then released ({@link Disposition#RELEASED}), neither skipped, nor
 * dead-lettered, nor counted as failed.
 *
 * @since 0.1
 */
public sealed interface ErrorPolicy permits ErrorPolicy.Fail, ErrorPolicy.Skip, ErrorPolicy.ToDeadLetter {

    /**
     * The run fails (the default).
     *
     * @return the shared fail policy
     */
    static ErrorPolicy fail() {
        return Fail.INSTANCE;
    }

    /**
     * The item is skipped, counted and logged.
     *
     * @return the shared skip policy
     */
    static ErrorPolicy skip() {
        return Skip.INSTANCE;
    }

    /**
     * The item and its error go to {@code handler}; the item is counted as failed.
     *
     * @param handler called with each failed item, on the stage's thread (a worker's, for {@code mapConcurrent}), one
     *     call at a time per stage; if it throws, the run fails
     * @return a policy that hands failed items to {@code handler}
     * @throws NullPointerException if {@code handler} is {@code null}
     */
    static ErrorPolicy deadLetter(CheckedConsumer<? super DeadLetter> handler) {
        return new ToDeadLetter(Require.nonNull(handler, "handler"));
    }

    /** See {@link #fail()}. */
    enum Fail implements ErrorPolicy {
        /** The only instance, returned by {@link ErrorPolicy#fail()}. */
        INSTANCE
    }

    /** See {@link #skip()}. */
    enum Skip implements ErrorPolicy {
        /** The only instance, returned by {@link ErrorPolicy#skip()}. */
        INSTANCE
    }

    /**
     * See {@link #deadLetter(CheckedConsumer)}.
     *
     * @param handler receives each item the stage failed on, with the error
     */
    record ToDeadLetter(CheckedConsumer<? super DeadLetter> handler) implements ErrorPolicy {}
}
