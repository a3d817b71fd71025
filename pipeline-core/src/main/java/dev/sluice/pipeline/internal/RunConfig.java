package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.PipelineListener;
import io.micrometer.context.ThreadLocalAccessor;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

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
        return with(copy -> copy.pipelineName = name);
    }

    public RunConfig withCorrelationId(String id) {
        return with(copy -> copy.correlationId = id);
    }

    public RunConfig withListener(PipelineListener listener, Duration progressInterval) {
        List<ListenerRegistration> more = new ArrayList<>(listeners);
        more.add(new ListenerRegistration(listener, progressInterval));
        return with(copy -> copy.listeners = more);
    }

    public RunConfig withMeterRegistry(MeterRegistry registry) {
        return with(copy -> copy.meterRegistry = registry);
    }

    public RunConfig withWatchdogInterval(Duration interval) {
        return with(copy -> copy.watchdogInterval = interval);
    }

    public RunConfig withPropagateContext(boolean propagate) {
        return with(copy -> copy.propagateContext = propagate);
    }

    public RunConfig withPropagated(ThreadLocalAccessor<?> accessor) {
        List<ThreadLocalAccessor<?>> more = new ArrayList<>(propagated);
        more.removeIf(a -> a.key().equals(accessor.key()));
        more.add(accessor);
        return with(copy -> copy.propagated = more);
    }

    public RunConfig withObservationRegistry(ObservationRegistry registry) {
        return with(copy -> copy.observationRegistry = registry);
    }

    /** A copy of this configuration with what {@code change} sets on the copy's components. */
    private RunConfig with(Consumer<Copy> change) {
        Copy copy = new Copy(this);
        change.accept(copy);
        return new RunConfig(
                copy.pipelineName,
                copy.correlationId,
                copy.listeners,
                copy.meterRegistry,
                copy.watchdogInterval,
                copy.propagateContext,
                copy.propagated,
                copy.observationRegistry);
    }

    /** The components of a configuration being copied, for one to be replaced. */
    private static final class Copy {
        String pipelineName;
        String correlationId;
        List<ListenerRegistration> listeners;
        MeterRegistry meterRegistry;
        Duration watchdogInterval;
        boolean propagateContext;
        List<ThreadLocalAccessor<?>> propagated;
        ObservationRegistry observationRegistry;

        Copy(RunConfig config) {
            pipelineName = config.pipelineName;
            correlationId = config.correlationId;
            listeners = config.listeners;
            meterRegistry = config.meterRegistry;
            watchdogInterval = config.watchdogInterval;
            propagateContext = config.propagateContext;
            propagated = config.propagated;
            observationRegistry = config.observationRegistry;
        }
    }

    /** The context a run started now on this thread carries into its threads. */
    CallerContext captureContext() {
        return CallerContext.capture(propagateContext, propagated);
    }

    /** A listener and how often it wants progress. */
    public record ListenerRegistration(PipelineListener listener, Duration progressInterval) {}
}
