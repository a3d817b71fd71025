package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.PipelineListener;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The run-level options of a pipeline description.
 *
 * @param pipelineName the pipeline's name (metrics tag, thread name prefix, audit method)
 * @param correlationId a fixed correlation ID for every run, or {@code null} for a fresh UUID per run
 * @param listeners listeners with their progress intervals
 * @param meterRegistry where to register meters, or {@code null}
 * @param watchdogInterval how often stages that ignore cancellation are reported
 */
public record RunConfig(
        String pipelineName,
        String correlationId,
        List<ListenerRegistration> listeners,
        MeterRegistry meterRegistry,
        Duration watchdogInterval) {

    public static final Duration DEFAULT_PROGRESS_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_WATCHDOG_INTERVAL = Duration.ofSeconds(10);

    public RunConfig {
        listeners = List.copyOf(listeners);
    }

    public static RunConfig defaults() {
        return new RunConfig("pipeline", null, List.of(), null, DEFAULT_WATCHDOG_INTERVAL);
    }

    public RunConfig withName(String name) {
        return new RunConfig(name, correlationId, listeners, meterRegistry, watchdogInterval);
    }

    public RunConfig withCorrelationId(String id) {
        return new RunConfig(pipelineName, id, listeners, meterRegistry, watchdogInterval);
    }

    public RunConfig withListener(PipelineListener listener, Duration progressInterval) {
        List<ListenerRegistration> more = new ArrayList<>(listeners);
        more.add(new ListenerRegistration(listener, progressInterval));
        return new RunConfig(pipelineName, correlationId, more, meterRegistry, watchdogInterval);
    }

    public RunConfig withMeterRegistry(MeterRegistry registry) {
        return new RunConfig(pipelineName, correlationId, listeners, registry, watchdogInterval);
    }

    public RunConfig withWatchdogInterval(Duration interval) {
        return new RunConfig(pipelineName, correlationId, listeners, meterRegistry, interval);
    }

    /** A listener and how often it wants progress. */
    public record ListenerRegistration(PipelineListener listener, Duration progressInterval) {}
}
