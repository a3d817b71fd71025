package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.PipelineRun;
import dev.sluice.pipeline.internal.RunConfig;
import dev.sluice.pipeline.internal.StageDeclaration;
import dev.sluice.pipeline.internal.check.Require;
import java.time.Duration;
import java.util.List;

/**
 * A complete pipeline description, source to sink, ready to run. Immutable and reusable: every {@link #run} or
 * {@link #start} is a new, independent run (with its own correlation ID unless one was fixed).
 *
 * @param <R> the type of the sink's value
 * @since 0.1
 */
public final class RunnablePipeline<R> {

    private final List<StageDeclaration> stages;
    private final RunConfig config;

    RunnablePipeline(List<StageDeclaration> stages, RunConfig config) {
        this.stages = stages;
        this.config = config;
    }

    /**
     * Runs the pipeline on the calling thread's behalf and waits for it. Returns only after every thread of the
     * run has ended: the stage threads and the threads that call the listeners.
     *
     * @return the result of a run that completed
     * @throws PipelineFailedException if a stage failed; it carries the partial summary
     * @throws PipelineCancelledException never for this form, which has no deadline and no handle to cancel with;
     *     see {@link #run(Duration)}
     * @throws InterruptedException if the calling thread is interrupted: the run is cancelled and awaited, and the
     *     interrupt flag is restored before this is thrown
     */
    public PipelineResult<R> run() throws InterruptedException {
        return start().awaitCancellingOnInterrupt();
    }

    /**
     * Runs the pipeline with a deadline: when {@code timeout} passes, the run is aborted like a cancellation, and
     * a {@link PipelineCancelledException} with outcome {@link Outcome#TIMED_OUT} is thrown once every stage
     * thread has ended. Otherwise as {@link #run()}.
     *
     * @param timeout the longest the run may take, counted from its start
     * @return the result of a run that completed before its deadline
     * @throws PipelineFailedException if a stage failed; it carries the partial summary
     * @throws PipelineCancelledException if the deadline passed, with outcome {@link Outcome#TIMED_OUT}
     * @throws InterruptedException if the calling thread is interrupted: the run is cancelled and awaited, and the
     *     interrupt flag is restored before this is thrown
     * @throws IllegalArgumentException if {@code timeout} is not positive
     */
    public PipelineResult<R> run(Duration timeout) throws InterruptedException {
        return start(timeout).awaitCancellingOnInterrupt();
    }

    /**
     * Starts a run and returns at once with its handle.
     *
     * @return the handle to await, stop, cancel or watch the new run; the run goes on whether or not it is awaited
     */
    public PipelineHandle<R> start() {
        return new PipelineHandle<>(PipelineRun.start(stages, config, null));
    }

    /**
     * Starts a run with a deadline (see {@link #run(Duration)}) and returns at once with its handle.
     *
     * @param timeout the longest the run may take, counted from now
     * @return the handle of the new run, which is aborted with outcome {@link Outcome#TIMED_OUT} when the deadline
     *     passes
     * @throws IllegalArgumentException if {@code timeout} is not positive
     */
    public PipelineHandle<R> start(Duration timeout) {
        Require.positive(timeout, "timeout");
        return new PipelineHandle<>(PipelineRun.start(stages, config, timeout));
    }

    /**
     * Uses {@code correlationId} for every run, instead of a fresh random UUID per run (or the ID the pipeline fixed),
     * as {@link Pipeline#correlationId(String)} does for a pipeline that has no sink yet: for code that is handed a
     * whole pipeline, a server answering a call with the caller's ID for one.
     *
     * @param correlationId the ID of every run, in its MDC, its summary and its audit record
     * @return a new runnable pipeline with that ID; this one is unchanged
     * @throws NullPointerException if {@code correlationId} is {@code null}
     * @throws IllegalArgumentException if {@code correlationId} is blank
     * @since 0.1
     */
    public RunnablePipeline<R> correlationId(String correlationId) {
        return new RunnablePipeline<>(
                stages, config.withCorrelationId(Require.notBlank(correlationId, "correlationId")));
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("RunnablePipeline[")
                .append(config.pipelineName())
                .append(": ");
        for (int i = 0; i < stages.size(); i++) {
            b.append(i == 0 ? "" : " -> ").append(stages.get(i).name());
        }
        return b.append(']').toString();
    }
}
