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

    /**
     * Not {@code sluice.pipeline.run}, the timer {@link PipelineMeters} records: an observation handler that records
     * meters (Micrometer's {@code DefaultMeterObservationHandler}) registers a timer named after the observation, with
     * an {@code error} tag of its own, which under the same name would count each run twice and clash with the
     * timer's tag keys.
     */
    static final String NAME = "sluice.pipeline";

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
            } catch (Throwable e) { // an Error too: a handler must never hang or break a run
                log.warn("starting the observation of a pipeline run failed", e);
            }
        }
    }

    /** The observation made current on one thread, until closed there. Closing never throws. */
    interface Opened extends AutoCloseable {
        @Override
        void close();
    }

    private static final Opened NOTHING_OPENED = () -> {};

    /**
     * Makes the observation current on the calling thread until the returned scope is closed, on the same thread.
     * Never throws, and neither does closing: a failing handler is logged, and the thread runs, or ends, without it.
     */
    Opened open() {
        if (observation == null) {
            return NOTHING_OPENED;
        }
        Observation.Scope scope;
        try {
            scope = observation.openScope();
        } catch (Throwable e) { // an Error too: a handler must never hang or break a run
            log.warn("opening the observation of a pipeline run on thread '{}' failed", Thread.currentThread(), e);
            return NOTHING_OPENED;
        }
        return () -> {
            try {
                scope.close();
            } catch (Throwable e) { // an Error too: the thread's own end (counting it ended) must follow
                log.warn("closing the observation of a pipeline run on thread '{}' failed", Thread.currentThread(), e);
            }
        };
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
