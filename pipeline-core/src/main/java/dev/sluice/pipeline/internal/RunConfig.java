package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.PipelineListener;
import io.micrometer.context.ThreadLocalAccessor;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
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
 * @param propagateContext whether a run's threads start with the caller's MDC and thread-local context
 * @param propagated thread-locals carried into a run's threads in any case
 * @param observationRegistry where each run records its {@code Observation}, or {@code null}
 */
public record RunConfig(
        String pipelineName,
        String correlationId,
        List<ListenerRegistration> listeners,
        MeterRegistry meterRegistry,
        Duration watchdogInterval,
        boolean propagateContext,
        List<ThreadLocalAccessor<?>> propagated,
        ObservationRegistry observationRegistry) {

    public static final Duration DEFAULT_PROGRESS_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_WATCHDOG_INTERVAL = Duration.ofSeconds(10);

    public RunConfig {
        listeners = List.copyOf(listeners);
        propagated = List.copyOf(propagated);
    }

    public static RunConfig defaults() {
        return new RunConfig("pipeline", null, List.of(), null, DEFAULT_WATCHDOG_INTERVAL, true, List.of(), null);
    }

    public RunConfig withName(String name) {
        return new RunConfig(
                name,
                correlationId,
                listeners,
                meterRegistry,
                watchdogInterval,
                propagateContext,
                propagated,
                observationRegistry);
    }

    public RunConfig withCorrelationId(String id) {
        return new RunConfig(
                pipelineName,
                id,
                listeners,
                meterRegistry,
                watchdogInterval,
                propagateContext,
                propagated,
                observationRegistry);
    }

    public RunConfig withListener(PipelineListener listener, Duration progressInterval) {
        List<ListenerRegistration> more = new ArrayList<>(listeners);
        more.add(new ListenerRegistration(listener, progressInterval));
        return new RunConfig(
                pipelineName,
                correlationId,
                more,
                meterRegistry,
                watchdogInterval,
                propagateContext,
                propagated,
                observationRegistry);
    }

    public RunConfig withMeterRegistry(MeterRegistry registry) {
        return new RunConfig(
                pipelineName,
                correlationId,
                listeners,
                registry,
                watchdogInterval,
                propagateContext,
                propagated,
                observationRegistry);
    }

    public RunConfig withWatchdogInterval(Duration interval) {
        return new RunConfig(
                pipelineName,
                correlationId,
                listeners,
                meterRegistry,
                interval,
                propagateContext,
                propagated,
                observationRegistry);
    }

    public RunConfig withPropagateContext(boolean propagate) {
        return new RunConfig(
                pipelineName,
                correlationId,
                listeners,
                meterRegistry,
                watchdogInterval,
                propagate,
                propagated,
                observationRegistry);
    }

    public RunConfig withPropagated(ThreadLocalAccessor<?> accessor) {
        List<ThreadLocalAccessor<?>> more = new ArrayList<>(propagated);
        more.removeIf(a -> a.key().equals(accessor.key()));
        more.add(accessor);
        return new RunConfig(
                pipelineName,
                correlationId,
                listeners,
                meterRegistry,
                watchdogInterval,
                propagateContext,
                more,
                observationRegistry);
    }

    public RunConfig withObservationRegistry(ObservationRegistry registry) {
        return new RunConfig(
                pipelineName,
                correlationId,
                listeners,
                meterRegistry,
                watchdogInterval,
                propagateContext,
                propagated,
                registry);
    }

    /** The context a run started now on this thread carries into its threads. */
    CallerContext captureContext() {
        return CallerContext.capture(propagateContext, propagated);
    }

    /** A listener and how often it wants progress. */
    public record ListenerRegistration(PipelineListener listener, Duration progressInterval) {}
}
