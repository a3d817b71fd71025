package dev.sluice.pipeline;

/** How a pipeline run ended. */
public enum Outcome {
    /** The source ended and every item went through to the sink. */
    COMPLETED,
    /** {@link PipelineHandle#stop(java.time.Duration)} stopped the source and everything inside drained in time. */
    STOPPED,
    /** A stage failed; the run was aborted. */
    FAILED,
    /** The run was cancelled: {@link PipelineHandle#cancel()}, an interrupted caller, or a stop whose grace ran out. */
    CANCELLED,
    /** The run's deadline passed; the run was aborted. */
    TIMED_OUT;

    /** Whether the run ended without an abort (COMPLETED or STOPPED). */
    public boolean isSuccess() {
        return this == COMPLETED || this == STOPPED;
    }
}
