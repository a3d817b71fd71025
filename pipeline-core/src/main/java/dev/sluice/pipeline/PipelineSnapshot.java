package dev.sluice.pipeline;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A live view of a running pipeline, as given to {@link PipelineListener#onProgress} and returned by
 * {@link PipelineHandle#snapshot()}. The counters are read one after another while the run goes on, so they
 * are each exact but not taken at one instant.
 *
 * @param pipelineName the pipeline's name
 * @param correlationId the run's correlation ID
 * @param runId a fresh random ID per run, the same in its summary
 * @param startedAt when the run started
 * @param elapsed time since the start
 * @param stages each stage's counters, source first, sink last
 * @param attributes what stages recorded with {@link StageContext#attribute}
 * @since 0.1
 */
public record PipelineSnapshot(
        String pipelineName,
        String correlationId,
        java.util.UUID runId,
        Instant startedAt,
        Duration elapsed,
        List<StageStats> stages,
        Map<String, Object> attributes) {

    /**
     * Copies {@code stages} and {@code attributes}, so that the snapshot does not change with the run.
     *
     * @throws NullPointerException if {@code stages} or {@code attributes} is {@code null} or holds a {@code null}
     */
    public PipelineSnapshot {
        stages = List.copyOf(stages);
        attributes = Map.copyOf(attributes);
    }

    /**
     * Items taken in by the sink so far.
     *
     * @return the last stage's {@link StageStats#itemsIn()}, 0 for a snapshot without stages
     */
    public long itemCount() {
        return stages.isEmpty() ? 0L : stages.get(stages.size() - 1).itemsIn();
    }

    /**
     * The stage of that name.
     *
     * @param name a stage name, as given to the builder or generated for it
     * @return that stage's counters; empty if no stage has that name
     */
    public java.util.Optional<StageStats> stage(String name) {
        return stages.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    /**
     * {@link #itemCount()} per second of {@link #elapsed()}; 0 before any time has passed.
     *
     * @return the sink's average throughput since the start, in items per second
     */
    public double itemsPerSecond() {
        long nanos = elapsed.toNanos();
        return nanos <= 0 ? 0.0 : itemCount() * 1_000_000_000.0 / nanos;
    }
}
