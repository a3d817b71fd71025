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
 */
public record PipelineResult<R>(@Nullable R value, PipelineSummary summary) {

    public PipelineResult {
        Require.nonNull(summary, "summary");
    }

    /** {@link Outcome#COMPLETED} or {@link Outcome#STOPPED}. */
    public Outcome outcome() {
        return summary.outcome();
    }

    public Duration duration() {
        return summary.duration();
    }

    public List<StageStats> stages() {
        return summary.stages();
    }

    public String correlationId() {
        return summary.correlationId();
    }

    /** Items the sink took in. */
    public long itemCount() {
        return summary.itemCount();
    }
}
