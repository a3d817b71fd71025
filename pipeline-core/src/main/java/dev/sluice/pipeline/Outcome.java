package dev.sluice.pipeline;

/**
 * How a pipeline run ended.
 *
 * @since 0.1
 */
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

    /**
     * Whether the run ended without an abort (COMPLETED or STOPPED).
     *
     * @return {@code true} for COMPLETED and STOPPED, {@code false} for FAILED, CANCELLED and TIMED_OUT
     */
    public boolean isSuccess() {
        return this == COMPLETED || this == STOPPED;
    }
}
