package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.StageContext;
import io.grpc.Status;
import java.time.Duration;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * The JFR event {@value #NAME}: an attempt of a call failed and the call is made again, after a backoff that the event
 * spans. One per retried attempt of a {@code GrpcSource}'s stream before its first item, a {@code GrpcUnary}'s call or
 * a {@code GrpcClientStream}'s call; a stream that broke past its first item is a {@link GrpcResumeEvent} instead. Its
 * fields are filled only if a recording takes it.
 */
@Name(GrpcRetryEvent.NAME)
@Label("gRPC Retry")
@Category({"Sluice", "gRPC"})
@Description("An attempt of a gRPC call failed and the call is made again; the event spans the backoff before the"
        + " next attempt")
@StackTrace(false)
final class GrpcRetryEvent extends Event {

    static final String NAME = "dev.sluice.GrpcRetry";

    @Label("Method")
    @Description("The full name of the gRPC method")
    String method;

    @Label("Correlation ID")
    @Description("The correlation ID the call carries: its run's, the served call's or the MDC's, if any")
    String correlationId;

    @Label("Attempt")
    @Description("The attempt that failed: 1 for the first call")
    int attempt;

    @Label("Retry")
    @Description("Which retry in a row this is, counted against Max Retries")
    int retry;

    @Label("Max Retries")
    @Description("The retries in a row the call's ResilienceOptions allow")
    int maxRetries;

    @Label("Status")
    @Description("The status code the attempt failed with")
    String status;

    @Label("Status Description")
    @Description("The status's description, if any")
    String statusDescription;

    @Label("Delay")
    @Description("The backoff chosen before the next attempt")
    @Timespan(Timespan.NANOSECONDS)
    long delay;

    /**
     * The event of a backoff starting now, begun with its fields set; or null if no recording takes it. Committed after
     * the wait.
     */
    static GrpcRetryEvent backingOff(
            String method, int attempt, int retry, int maxRetries, Status status, Duration delay) {
        GrpcRetryEvent event = new GrpcRetryEvent();
        if (!event.isEnabled()) {
            return null;
        }
        event.method = method;
        event.correlationId = StageContext.current()
                .map(StageContext::correlationId)
                .orElseGet(CorrelationClientInterceptor::callerId);
        event.attempt = attempt;
        event.retry = retry;
        event.maxRetries = maxRetries;
        event.status = status.getCode().name();
        event.statusDescription = status.getDescription();
        event.delay = delay.toNanos();
        event.begin();
        return event;
    }
}
