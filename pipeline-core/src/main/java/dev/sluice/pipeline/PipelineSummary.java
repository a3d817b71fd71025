package dev.sluice.pipeline;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How a run ended and what it did: given to {@link PipelineListener#onFinish}, and carried by
 * {@link PipelineResult}, {@link PipelineFailedException} and {@link PipelineCancelledException}.
 *
 * @param pipelineName the pipeline's name
 * @param correlationId the run's correlation ID (fixed per description, or fresh per run)
 * @param runId a fresh random ID per run, the same in its snapshots: what tells two runs apart when they share a
 *     correlation ID
 * @param outcome how the run ended
 * @param startedAt when the run started
 * @param duration how long it ran, until every stage thread had ended
 * @param stages each stage's final counters, source first, sink last
 * @param attributes what stages recorded with {@link StageContext#attribute} (for a gRPC source: its method,
 *     final status, attempts and resumes)
 * @param failedStage the stage whose failure ended the run, or {@code null}
 * @param failure that stage's exception, or {@code null}
 */
public record PipelineSummary(
        String pipelineName,
        String correlationId,
        java.util.UUID runId,
        Outcome outcome,
        Instant startedAt,
        Duration duration,
        List<StageStats> stages,
        Map<String, Object> attributes,
        String failedStage,
        Throwable failure) {

    public PipelineSummary {
        stages = List.copyOf(stages);
        attributes = Map.copyOf(attributes);
    }

    /** Items the sink took in: for a completed run, everything that went all the way through. */
    public long itemCount() {
        return stages.isEmpty() ? 0L : stages.get(stages.size() - 1).itemsIn();
    }

    /** {@link #itemCount()} per second of {@link #duration()}; 0 for a run that took no measurable time. */
    public double itemsPerSecond() {
        return perSecond(itemCount(), duration);
    }

    /** The stage of that name. */
    public Optional<StageStats> stage(String name) {
        return stages.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    /** The failure's message (or its class name when it has none), if the run failed. */
    public Optional<String> errorMessage() {
        if (failure == null) {
            return Optional.empty();
        }
        String message = failure.getMessage();
        return Optional.of(
                message != null
                        ? failure.getClass().getSimpleName() + ": " + message
                        : failure.getClass().getName());
    }

    static double perSecond(long count, Duration elapsed) {
        long nanos = elapsed.toNanos();
        return nanos <= 0 ? 0.0 : count * 1_000_000_000.0 / nanos;
    }
}
