package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.PipelineRun;
import dev.sluice.pipeline.internal.check.Require;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * A running pipeline, returned by {@link RunnablePipeline#start()}. Thread-safe: any thread may cancel, stop,
 * await or look at it.
 *
 * @param <R> the type of the sink's value
 * @since 0.1
 */
public final class PipelineHandle<R> {

    private final PipelineRun<R> run;

    PipelineHandle(PipelineRun<R> run) {
        this.run = run;
    }

    /**
     * The run's correlation ID.
     *
     * @return the ID fixed on the pipeline, or the one generated for this run
     */
    public String correlationId() {
        return run.correlationId();
    }

    /**
     * Aborts the run: every stage thread is interrupted at once and every link failed, so items inside are
     * abandoned. Returns at once; {@link #await()} then throws {@link PipelineCancelledException}. No effect on a
     * run that is already aborting, or whose sink has completed (its outcome is settled; threads still ending are
     * only interrupted).
     */
    public void cancel() {
        run.cancel();
    }

    /**
     * Stops the run gracefully: the source is stopped (interrupted) and ends; everything already inside the
     * pipeline drains through the sink, including what the source had already taken from its input (received
     * from a channel, a publisher or a gRPC call: see {@link Emitter#emit}). If that takes longer than
     * {@code grace}, the rest is cancelled. Returns at once. A run that drains in time ends with outcome {@link Outcome#STOPPED} and its result; otherwise
     * {@link #await()} throws {@link PipelineCancelledException}. No effect on a run that is already aborting, or
     * whose sink has completed (its outcome, {@link Outcome#COMPLETED}, is settled). A consumer job's shutdown hook
     * calls this, then {@code await()}.
     *
     * @param grace how long the pipeline may take to drain, counted from this call; when it runs out, the rest is
     *     cancelled
     * @throws IllegalArgumentException if {@code grace} is negative
     */
    public void stop(Duration grace) {
        Require.notNegative(grace, "grace");
        run.stop(grace);
    }

    /**
     * Waits for the run to end: every thread of the run has terminated, stage threads and the thread that calls
     * the listeners alike, and every listener's {@code onFinish} has returned. Interrupting the waiting thread does
     * not cancel the run (unlike {@link RunnablePipeline#run()}).
     *
     * @return the result, if the run completed or was stopped and drained
     * @throws PipelineFailedException if a stage failed
     * @throws PipelineCancelledException if the run was cancelled or passed its deadline
     * @throws InterruptedException if the waiting thread is interrupted; the run goes on
     * @throws IllegalStateException if called from a listener of this run, which would wait for itself
     */
    public PipelineResult<R> await() throws InterruptedException {
        run.awaitEnd();
        return run.outcomeOrThrow();
    }

    /**
     * Waits at most {@code timeout} for the run to end, as {@link #await()} does.
     *
     * @param timeout the longest to wait; the run itself has no deadline from it
     * @return the result, if the run completed or was stopped and drained
     * @throws NullPointerException if {@code timeout} is {@code null}
     * @throws TimeoutException if it has not ended by then; the run goes on
     * @throws PipelineFailedException if a stage failed
     * @throws PipelineCancelledException if the run was cancelled or passed its deadline
     * @throws InterruptedException if the waiting thread is interrupted; the run goes on
     */
    public PipelineResult<R> await(Duration timeout) throws InterruptedException, TimeoutException {
        Require.nonNull(timeout, "timeout");
        if (!run.awaitEnd(timeout)) {
            throw new TimeoutException("pipeline '" + run.pipelineName() + "' (correlation " + correlationId()
                    + ") has not ended after " + timeout);
        }
        return run.outcomeOrThrow();
    }

    /**
     * Whether the run has ended: every thread of it has terminated (see {@link #await()}).
     *
     * @return {@code true} once {@link #await()} would return or throw without waiting
     */
    public boolean isDone() {
        return run.isDone();
    }

    /**
     * The live counters of the run (final once it has ended).
     *
     * @return a new snapshot, read now; it does not change afterwards
     */
    public PipelineSnapshot snapshot() {
        return run.snapshot();
    }

    /** How many stage threads have not terminated; for tests of "no thread outlives the run". */
    int activeThreadCount() {
        return run.activeThreadCount();
    }

    /** {@code run()}'s waiting: an interrupt cancels the run, awaits its end, restores the flag and rethrows. */
    PipelineResult<R> awaitCancellingOnInterrupt() throws InterruptedException {
        try {
            run.awaitEnd();
        } catch (InterruptedException e) {
            run.cancel();
            run.awaitEndUninterruptibly();
            Thread.currentThread().interrupt();
            throw e;
        }
        return run.outcomeOrThrow();
    }

    @Override
    public String toString() {
        return "PipelineHandle[" + run + "]";
    }
}
