package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.check.Require;
import java.util.concurrent.CancellationException;

/**
 * A run was cancelled ({@link Outcome#CANCELLED}) or passed its deadline ({@link Outcome#TIMED_OUT}) before it
 * completed. Thrown by {@link RunnablePipeline#run()} and {@link PipelineHandle#await()} after every stage thread
 * has ended; carries the partial summary.
 *
 * @since 0.1
 */
public final class PipelineCancelledException extends CancellationException {
    private static final long serialVersionUID = 1L;

    private final transient PipelineSummary summary;

    /**
     * Creates the exception; its message gives the pipeline, the correlation ID, the duration and the sink's count.
     *
     * @param summary the run's summary, with outcome CANCELLED or TIMED_OUT
     */
    public PipelineCancelledException(PipelineSummary summary) {
        super("pipeline '" + summary.pipelineName() + "' (correlation " + summary.correlationId() + ") "
                + (summary.outcome() == Outcome.TIMED_OUT ? "passed its deadline" : "was cancelled")
                + " after " + summary.duration().toMillis() + " ms, " + summary.itemCount() + " items in the sink");
        this.summary = Require.nonNull(summary, "summary");
    }

    /**
     * The partial summary: counts up to the cancellation; outcome CANCELLED or TIMED_OUT.
     *
     * @return the summary of the run; {@code null} after deserialization, as it is not serialized
     */
    public PipelineSummary summary() {
        return summary;
    }
}
