package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.check.Require;

/**
 * A run failed: a stage threw (and its {@link ErrorPolicy} did not absorb it). Thrown by
 * {@link RunnablePipeline#run()} and {@link PipelineHandle#await()}. The message names the stage, the items
 * each stage had processed and the cause; {@link #getCause()} is the stage's exception.
 *
 * @since 0.1
 */
public final class PipelineFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient PipelineSummary summary;

    /**
     * Creates the exception; its cause is the summary's failure.
     *
     * @param summary the failed run's summary
     * @throws NullPointerException if {@code summary} is {@code null}
     */
    public PipelineFailedException(PipelineSummary summary) {
        super(describe(summary), Require.nonNull(summary, "summary").failure());
        this.summary = summary;
    }

    /**
     * The partial summary: counts up to the failure.
     *
     * @return the summary of the run; {@code null} after deserialization, as it is not serialized
     */
    public PipelineSummary summary() {
        return summary;
    }

    /**
     * The name of the stage that failed.
     *
     * @return the failed stage's name, as in {@link PipelineSummary#failedStage()}
     */
    public String stage() {
        return summary.failedStage();
    }

    private static String describe(PipelineSummary s) {
        StringBuilder b = new StringBuilder()
                .append("pipeline '")
                .append(s.pipelineName())
                .append("' (correlation ")
                .append(s.correlationId())
                .append(") failed in stage '")
                .append(s.failedStage())
                .append("' after ")
                .append(s.duration().toMillis())
                .append(" ms; processed:");
        for (StageStats st : s.stages()) {
            b.append(' ').append(st.name()).append('=').append(st.itemsIn() == 0 ? st.itemsOut() : st.itemsIn());
        }
        s.errorMessage().ifPresent(m -> b.append("; cause: ").append(m));
        return b.toString();
    }
}
