package dev.sluice.pipeline.internal;

/**
 * What the threads of a stage may ask of the run they belong to, and all they may ask: stage loops see their run
 * only through this, never the {@link PipelineRun} itself. Every method may be called from any stage thread at
 * any time and does not block.
 */
interface OwningRun {

    /** Whether a graceful stop has begun: the source ends, and what it already took in is still delivered. */
    boolean isStopping();

    /** Whether the run is being aborted (a failure, a cancellation, the deadline). */
    boolean isAborting();

    /**
     * Tells the stages before {@code stageIndex} that they are no longer needed: their links fail, their threads
     * are interrupted, and they end quietly while the rest of the run completes normally.
     */
    void finishUpstreamOf(int stageIndex);

    /**
     * The sink has completed: its value is made and its consumer told (a writer committed, a channel closed, a
     * subscriber completed). From here on a cancellation, a deadline or a stop no longer changes how the run ended;
     * called by the sink's thread before it acknowledges the items it kept, which runs callbacks of its users.
     */
    void sinkCompleted();

    /** What a sink is told when the run aborts: the abort's cause, or {@code fallback} if the run is not aborting. */
    Throwable abortCauseOr(Throwable fallback);
}
