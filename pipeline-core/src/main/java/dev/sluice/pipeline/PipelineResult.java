package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.check.Require;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The result of a run that completed (or was stopped and drained): the sink's value and the run's summary.
 *
 * @param value what the sink produced (a count, a collected value, a reduction); {@code null} only if the
 *     sink's own result is null
 * @param summary how the run went
 * @param <R> the type of the sink's value
 * @since 0.1
 */
public record PipelineResult<R>(@Nullable R value, PipelineSummary summary) {

    /**
     * Checks that the summary is present.
     *
     * @throws NullPointerException if {@code summary} is {@code null}
     */
    public PipelineResult {
        Require.nonNull(summary, "summary");
    }

    /**
     * {@link Outcome#COMPLETED} or {@link Outcome#STOPPED}.
     *
     * @return the summary's outcome; a result is never made for an aborted run
     */
    public Outcome outcome() {
        return summary.outcome();
    }

    /**
     * How long the run took.
     *
     * @return the summary's duration, from the start to the end of the last stage thread
     */
    public Duration duration() {
        return summary.duration();
    }

    /**
     * Each stage's final counters.
     *
     * @return the summary's stages, source first, sink last
     */
    public List<StageStats> stages() {
        return summary.stages();
    }

    /**
     * The run's correlation ID.
     *
     * @return the ID fixed on the pipeline, or the one generated for this run
     */
    public String correlationId() {
        return summary.correlationId();
    }

    /**
     * Items the sink took in.
     *
     * @return the summary's item count
     */
    public long itemCount() {
        return summary.itemCount();
    }
}
