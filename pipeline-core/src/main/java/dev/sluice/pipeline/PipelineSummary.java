package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.check.Require;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * How a run ended and what it did: given to {@link PipelineListener#onFinish}, and carried by
 * {@link PipelineResult}, {@link PipelineFailedException} and {@link PipelineCancelledException}.
 *
 * <p>A summary is the run's last {@link PipelineSnapshot}, taken once every stage thread had ended, plus what only
 * the end knows: the outcome and, for a failed run, the stage and its exception. The snapshot's accessors are
 * repeated here, so a summary reads like a snapshot; {@link #duration()} is the snapshot's
 * {@link PipelineSnapshot#elapsed() elapsed}.
 *
 * @param snapshot the run as it stood when its last stage thread had ended: final counters, the whole duration
 * @param outcome how the run ended
 * @param failedStage the stage whose failure ended the run, or {@code null}
 * @param failure that stage's exception, or {@code null}
 */
public record PipelineSummary(PipelineSnapshot snapshot, Outcome outcome, String failedStage, Throwable failure) {

    /**
     * @throws NullPointerException if {@code snapshot} or {@code outcome} is null
     */
    public PipelineSummary {
        Require.nonNull(snapshot, "snapshot");
        Require.nonNull(outcome, "outcome");
    }

    /** The pipeline's name. */
    public String pipelineName() {
        return snapshot.pipelineName();
    }

    /** The run's correlation ID (fixed per description, or fresh per run). */
    public String correlationId() {
        return snapshot.correlationId();
    }

    /**
     * A fresh random ID per run, the same in its snapshots: what tells two runs apart when they share a correlation
     * ID.
     */
    public UUID runId() {
        return snapshot.runId();
    }

    /** When the run started. */
    public Instant startedAt() {
        return snapshot.startedAt();
    }

    /** How long the run ran, until every stage thread had ended. */
    public Duration duration() {
        return snapshot.elapsed();
    }

    /** Each stage's final counters, source first, sink last. */
    public List<StageStats> stages() {
        return snapshot.stages();
    }

    /**
     * What stages recorded with {@link StageContext#attribute} (for a gRPC source: its method, final status,
     * attempts and resumes).
     */
    public Map<String, Object> attributes() {
        return snapshot.attributes();
    }

    /** Items the sink took in: for a completed run, everything that went all the way through. */
    public long itemCount() {
        return snapshot.itemCount();
    }

    /** {@link #itemCount()} per second of {@link #duration()}; 0 for a run that took no measurable time. */
    public double itemsPerSecond() {
        return snapshot.itemsPerSecond();
    }

    /** The stage of that name. */
    public Optional<StageStats> stage(String name) {
        return snapshot.stage(name);
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
}
