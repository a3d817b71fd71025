package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.internal.check.Nanos;
import java.time.Duration;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * The JFR event {@value #NAME}: a stage thread still running past the watchdog interval after it was told to end. Sent
 * with each report the watchdog makes (its log line and {@code PipelineListener.onStuckStage}), so once per interval
 * while the thread lasts. Its fields are filled only if a recording takes it.
 */
@Name(StuckStageEvent.NAME)
@Label("Stuck Stage")
@Category({"Sluice", "Pipeline"})
@Description("A stage thread that has not ended, past the watchdog interval, after it was told to end (the run was"
        + " aborted, or the stages after it finished early): it does not respond to interruption")
@StackTrace(false)
final class StuckStageEvent extends Event {

    static final String NAME = "dev.sluice.StuckStage";

    @Label("Pipeline")
    @Description("The pipeline's name")
    String pipeline;

    @Label("Correlation ID")
    @Description("The run's correlation ID")
    String correlationId;

    @Label("Stage")
    @Description("The stage that has not ended")
    String stage;

    @Label("Stage Thread")
    @Description("The name of the stage's thread that has not ended")
    String stageThread;

    @Label("Stuck For")
    @Description("How long ago the stage was told to end")
    @Timespan(Timespan.NANOSECONDS)
    long stuckFor;

    @Label("Threshold")
    @Description("The watchdog interval: how long a stage may take to end before it is reported, and how often")
    @Timespan(Timespan.NANOSECONDS)
    long threshold;

    @Label("Told To End Because")
    @Description("Why the stage was told to end: the run was aborted, or the stages after it finished early")
    String cause;

    @Label("Where")
    @Description("The innermost frames of the stage thread's stack")
    String where;

    /** Commits the event if a recording takes it; does nothing otherwise. */
    static void report(
            String pipeline,
            String correlationId,
            String stage,
            Thread thread,
            StackTraceElement[] where,
            long stuckForNanos,
            Duration threshold,
            String cause) {
        StuckStageEvent event = new StuckStageEvent();
        if (!event.shouldCommit()) {
            return;
        }
        event.pipeline = pipeline;
        event.correlationId = correlationId;
        event.stage = stage;
        event.stageThread = thread.getName();
        event.stuckFor = stuckForNanos;
        event.threshold = Nanos.saturated(threshold);
        event.cause = cause;
        event.where = StackDump.of(where).strip();
        event.commit();
    }
}
