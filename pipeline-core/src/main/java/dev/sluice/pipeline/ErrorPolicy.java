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
 *   <li>{@link #deadLetter(CheckedConsumer)}: the item and the exception go to a handler, on the stage's thread,
 *       and the stage goes on; the item is counted as failed. If the handler itself throws, the run fails.</li>
 * </ul>
 * {@link InterruptedException} is never handled by a policy: it means the run is being cancelled.
 */
public sealed interface ErrorPolicy permits ErrorPolicy.Fail, ErrorPolicy.Skip, ErrorPolicy.ToDeadLetter {

    /** The run fails (the default). */
    static ErrorPolicy fail() {
        return Fail.INSTANCE;
    }

    /** The item is skipped, counted and logged. */
    static ErrorPolicy skip() {
        return Skip.INSTANCE;
    }

    /** The item and its error go to {@code handler}; the item is counted as failed. */
    static ErrorPolicy deadLetter(CheckedConsumer<? super DeadLetter> handler) {
        return new ToDeadLetter(Require.nonNull(handler, "handler"));
    }

    /** See {@link #fail()}. */
    enum Fail implements ErrorPolicy {
        INSTANCE
    }

    /** See {@link #skip()}. */
    enum Skip implements ErrorPolicy {
        INSTANCE
    }

    /** See {@link #deadLetter(CheckedConsumer)}. */
    record ToDeadLetter(CheckedConsumer<? super DeadLetter> handler) implements ErrorPolicy {}
}
