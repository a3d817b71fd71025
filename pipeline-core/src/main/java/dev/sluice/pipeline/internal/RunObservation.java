package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Outcome;
import dev.sluice.pipeline.PipelineSummary;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Micrometer {@link Observation} of one run, named {@value #NAME}: started on the run's coordinating thread, made
 * current in every thread of the run (so a tracer shows the run as a span, and calls made from a stage, with an
 * observation interceptor on their channel, as its children), stopped when the run ends with its outcome.
 *
 * <p>Key values: low cardinality {@code pipeline} (the pipeline's name) and {@code outcome} (completed, stopped,
 * failed, cancelled, timed_out); high cardinality {@code correlation.id}, {@code items} (what the sink took) and, on
 * failure, {@code stage}. Its error is the failure of a failed run, and a {@link TimeoutException} for a run that
 * passed its deadline, so a tracer marks both spans as errors; a cancelled or stopped run has none (it ended as its
 * caller asked). Its parent is the observation current where the run was started, if any.
 *
 * <p>Without a registry it is {@link #NONE}: nothing is created and opening a scope costs nothing.
 */
final class RunObservation {

    private static final Logger log = LoggerFactory.getLogger(RunObservation.class);

    static final String NAME = "sluice.pipeline.run";

    static final RunObservation NONE = new RunObservation(null);

    private final Observation observation;

    private RunObservation(Observation observation) {
        this.observation = observation;
    }

    /**
     * The observation of a run about to start, its parent the observation current on the calling thread. Created,
     * not started.
     */
    static RunObservation create(ObservationRegistry registry, String pipeline, String correlationId) {
        if (registry == null || registry.isNoop()) {
            return NONE;
        }
        Observation o = Observation.createNotStarted(NAME, registry)
                .contextualName("pipeline " + pipeline)
                .parentObservation(registry.getCurrentObservation())
                .lowCardinalityKeyValue("pipeline", pipeline)
                .highCardinalityKeyValue("correlation.id", correlationId);
        return new RunObservation(o);
    }

    /** Starts the observation; on the coordinating thread, once. Never throws: a failing handler is logged. */
    void start() {
        if (observation != null) {
            try {
                observation.start();
            } catch (RuntimeException e) {
                log.warn("starting the observation of a pipeline run failed", e);
            }
        }
    }

    /**
     * Makes the observation current on the calling thread until the scope is closed, on the same thread. Never throws:
     * a failing handler is logged and the thread runs without it.
     */
    Observation.Scope open() {
        if (observation == null) {
            return Observation.Scope.NOOP;
        }
        try {
            return observation.openScope();
        } catch (RuntimeException e) {
            log.warn("opening the observation of a pipeline run on thread '{}' failed", Thread.currentThread(), e);
            return Observation.Scope.NOOP;
        }
    }

    /** Records how the run ended and stops the observation; on the coordinating thread, once. */
    void stop(PipelineSummary summary) {
        if (observation == null) {
            return;
        }
        observation.lowCardinalityKeyValue("outcome", summary.outcome().name().toLowerCase(Locale.ROOT));
        observation.highCardinalityKeyValue("items", Long.toString(summary.itemCount()));
        if (summary.failure() != null) {
            observation.highCardinalityKeyValue("stage", String.valueOf(summary.failedStage()));
            observation.error(summary.failure());
        } else if (summary.outcome() == Outcome.TIMED_OUT) {
            observation.error(new TimeoutException("pipeline '" + summary.pipelineName()
                    + "' passed its deadline after " + summary.duration().toMillis() + " ms"));
        }
        observation.stop();
    }
}
