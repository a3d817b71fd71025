package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.PipelineSummary;
import dev.sluice.pipeline.StageStats;
import java.util.List;
import java.util.Locale;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * The JFR event of one run, {@value #NAME}: begins when the run is created, ends when its last thread has ended, and
 * carries how it ended and how many items went in and out.
 *
 * <p>One object per run whether or not JFR records (so that a recording started while the run goes on still gets the
 * whole run); its fields are filled and it is committed only if the recording takes it. Nothing per item.
 */
@Name(PipelineRunEvent.NAME)
@Label("Pipeline Run")
@Category({"Sluice", "Pipeline"})
@Description("One run of a pipeline, from its start until its last thread ended: its outcome and the items that went"
        + " in and out")
@StackTrace(false)
final class PipelineRunEvent extends Event {

    static final String NAME = "dev.sluice.PipelineRun";

    @Label("Pipeline")
    @Description("The pipeline's name")
    String pipeline;

    @Label("Correlation ID")
    @Description("The run's correlation ID, also in the MDC of its threads and in its audit event")
    String correlationId;

    @Label("Run ID")
    @Description("A fresh random ID per run: what tells two runs apart when they share a correlation ID")
    String runId;

    @Label("Outcome")
    @Description("completed, stopped, failed, cancelled or timed_out")
    String outcome;

    @Label("Items In")
    @Description("Items the source emitted")
    long itemsIn;

    @Label("Items Out")
    @Description("Items the sink took")
    long itemsOut;

    @Label("Failed Stage")
    @Description("The stage whose failure ended the run, if it failed")
    String failedStage;

    @Label("Failure")
    @Description("That stage's exception: its class and message")
    String failure;

    /** The event of a run that starts now. */
    static PipelineRunEvent started() {
        PipelineRunEvent event = new PipelineRunEvent();
        event.begin();
        return event;
    }

    /** Ends the event with the run's summary and commits it, if the recording takes it. Once, on the coordinator. */
    void ended(PipelineSummary summary) {
        end();
        if (!shouldCommit()) {
            return;
        }
        List<StageStats> stages = summary.stages();
        pipeline = summary.pipelineName();
        correlationId = summary.correlationId();
        runId = summary.runId().toString();
        outcome = summary.outcome().name().toLowerCase(Locale.ROOT);
        itemsIn = stages.isEmpty() ? 0L : stages.get(0).itemsOut();
        itemsOut = summary.itemCount();
        failedStage = summary.failedStage();
        failure = summary.errorMessage().orElse(null);
        commit();
    }
}
