package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.check.Require;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

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
 * @since 0.1
 */
public record PipelineSummary(
        PipelineSnapshot snapshot,
        Outcome outcome,
        @Nullable String failedStage,
        @Nullable Throwable failure) {

    /**
     * Makes a summary; Sluice makes one per run, when its last thread has ended.
     *
     * @throws NullPointerException if {@code snapshot} or {@code outcome} is null
     */
    public PipelineSummary {
        Require.nonNull(snapshot, "snapshot");
        Require.nonNull(outcome, "outcome");
    }

    /**
     * {@return the pipeline's name}
     *
     * @since 0.1
     */
    public String pipelineName() {
        return snapshot.pipelineName();
    }

    /**
     * {@return the run's correlation ID (fixed per description, or fresh per run)}
     *
     * @since 0.1
     */
    public String correlationId() {
        return snapshot.correlationId();
    }

    /**
     * {@return a fresh random ID per run, the same in its snapshots: what tells two runs apart when they share a
     * correlation ID}
     *
     * @since 0.1
     */
    public UUID runId() {
        return snapshot.runId();
    }

    /**
     * {@return when the run started}
     *
     * @since 0.1
     */
    public Instant startedAt() {
        return snapshot.startedAt();
    }

    /**
     * {@return how long the run ran, until every stage thread had ended}
     *
     * @since 0.1
     */
    public Duration duration() {
        return snapshot.elapsed();
    }

    /**
     * {@return each stage's final counters, source first, sink last}
     *
     * @since 0.1
     */
    public List<StageStats> stages() {
        return snapshot.stages();
    }

    /**
     * {@return what stages recorded with {@link StageContext#attribute} (for a gRPC source: its method, final
     * status, attempts and resumes)}
     *
     * @since 0.1
     */
    public Map<String, Object> attributes() {
        return snapshot.attributes();
    }

    /**
     * {@return items the sink took in: for a completed run, everything that went all the way through}
     *
     * @since 0.1
     */
    public long itemCount() {
        return snapshot.itemCount();
    }

    /**
     * {@return {@link #itemCount()} per second of {@link #duration()}; 0 for a run that took no measurable time}
     *
     * @since 0.1
     */
    public double itemsPerSecond() {
        return snapshot.itemsPerSecond();
    }

    /**
     * {@return the stage of that name, if the pipeline has one}
     *
     * @param name a stage's name
     * @since 0.1
     */
    public Optional<StageStats> stage(String name) {
        return snapshot.stage(name);
    }

    /**
     * {@return the failure's message (or its class name when it has none), if the run failed}
     *
     * @since 0.1
     */
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
