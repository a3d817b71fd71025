package dev.sluice.pipeline;

/**
 * Observes runs: the extension point for metrics, audit and progress reports. Register with
 * {@link Pipeline#listener(PipelineListener)}.
 *
 * <p>Callbacks run on a thread of the run, never on a stage thread, with the run's correlation ID and pipeline
 * name in the SLF4J MDC (under {@link StageContext#MDC_CORRELATION_ID} and {@link StageContext#MDC_PIPELINE}, as
 * on stage threads; no stage): {@code onStart} before any stage starts,
 * {@code onProgress} periodically while it runs, {@code onFinish} after every stage thread has ended and before
 * {@code run()} returns. They should return quickly; a slow callback delays the next one and the run's end
 * ({@code onFinish} waits for an {@code onProgress} under way), never the stages, the run's deadline or a stop's
 * grace, which are enforced while it runs. {@code onProgress} runs on a thread of its own, with the same context. An
 * exception thrown by a callback is logged and otherwise ignored: a listener never breaks a run. The callbacks
 * of one run are called one at a time, in order; one listener may observe several runs at once.
 *
 * @since 0.1
 */
public interface PipelineListener {

    /**
     * The run is about to start its stages. Counters are zero.
     *
     * @param start the run's identity and stages, before any item moved
     */
    default void onStart(PipelineSnapshot start) {}

    /**
     * Periodic progress, at the interval given when the listener was registered.
     *
     * @param progress the counts of every stage at this moment
     */
    default void onProgress(PipelineSnapshot progress) {}

    /**
     * The run ended, in any way; every stage thread has ended.
     *
     * @param summary the final counts, the outcome and any failure
     */
    default void onFinish(PipelineSummary summary) {}

    /**
     * A stage has not ended long after the run was cancelled: it ignores interruption. Called every watchdog
     * interval while it lasts, with the stage's name and where its thread is.
     *
     * @param stage the name of the stage that has not ended
     * @param where its thread's stack at this moment, innermost frame first
     */
    default void onStuckStage(String stage, StackTraceElement[] where) {}
}
