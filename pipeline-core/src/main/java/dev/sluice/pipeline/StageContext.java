package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.CurrentStageContext;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Optional;

/**
 * What a stage can know about the run it belongs to. Available to sources through {@link Emitter#context()}, and
 * to any code on a stage thread (a map function, a gRPC interceptor called from it) through {@link #current()}.
 * Thread-safe.
 *
 * @since 0.1
 */
public interface StageContext {

    /**
     * The pipeline's name.
     *
     * @return the name given to the pipeline, the same for every stage of the run
     */
    String pipelineName();

    /**
     * The name of the stage running on this thread.
     *
     * @return the stage's name, as in the run's {@link StageStats}
     */
    String stageName();

    /**
     * The run's correlation ID, also in the MDC of every stage thread under the key {@code correlationId}.
     *
     * @return the ID fixed on the pipeline, or the one generated for this run
     */
    String correlationId();

    /**
     * Records a value in the run's summary ({@link PipelineSummary#attributes()}), replacing an earlier value for
     * the same key. The gRPC source records its method, final status, attempts and resumes this way, so that the
     * audit trail can show them without knowing about gRPC. Null values are ignored.
     *
     * @param key the attribute's name, conventionally prefixed with the module ({@code grpc.method})
     * @param value the value to record; {@code null} leaves an earlier value in place
     */
    void attribute(String key, Object value);

    /**
     * The run's meter registry, if it has one; stages that keep their own meters register them there.
     *
     * @return the registry set on the pipeline; empty if none was
     */
    Optional<MeterRegistry> meterRegistry();

    /**
     * Whether the run is being aborted: it failed, was cancelled or passed its deadline. Its stages are being
     * interrupted, and nothing in flight will be processed any more: an item emitted with an acknowledgement will be
     * told {@link Disposition#RELEASED} once every stage has ended. A source that would otherwise wait for what it
     * emitted to finish (to commit it) ends at once when this is true. False during a graceful stop, and after the
     * run completed.
     *
     * @return true once the run has begun to abort; never false again after that
     * @since 0.1
     */
    boolean isAborting();

    /**
     * The context of the stage running on the calling thread, if it is a stage thread.
     *
     * @return the stage's context; empty on any thread that is not a stage thread of a run
     */
    static Optional<StageContext> current() {
        return Optional.ofNullable(CurrentStageContext.get());
    }

    /** The MDC key under which stage threads carry the correlation ID. */
    String MDC_CORRELATION_ID = "correlationId";
    /** The MDC key under which stage threads carry the pipeline's name. */
    String MDC_PIPELINE = "pipeline";
    /** The MDC key under which stage threads carry the stage's name. */
    String MDC_STAGE = "stage";
}
