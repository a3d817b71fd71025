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
 * The JFR event {@value #NAME}: a {@code GrpcSource}'s stream broke after it had delivered items and is continued
 * with the request its {@code ResumeStrategy} makes from the last item delivered, after a backoff that the event spans.
 * Its fields are filled only if a recording takes it.
 */
@Name(GrpcResumeEvent.NAME)
@Label("gRPC Resume")
@Category({"Sluice", "gRPC"})
@Description("A server stream broke after delivering items and is resumed after the last item delivered; the event"
        + " spans the backoff before the resuming call")
@StackTrace(false)
final class GrpcResumeEvent extends Event {

    static final String NAME = "dev.sluice.GrpcResume";

    @Label("Method")
    @Description("The full name of the gRPC method")
    String method;

    @Label("Correlation ID")
    @Description("The correlation ID the call carries: its run's, the served call's or the MDC's, if any")
    String correlationId;

    @Label("Attempt")
    @Description("The call that broke: 1 for the first call")
    int attempt;

    @Label("Status")
    @Description("The status code the call broke with")
    String status;

    @Label("Status Description")
    @Description("The status's description, if any")
    String statusDescription;

    @Label("Resume Position")
    @Description("Items the source delivered downstream over all its calls: the resuming call continues after the"
            + " last of them")
    long position;

    @Label("Items In Call")
    @Description("Items the call that broke delivered")
    long itemsInCall;

    @Label("Delay")
    @Description("The backoff chosen before the resuming call")
    @Timespan(Timespan.NANOSECONDS)
    long delay;

    /**
     * The event of a backoff starting now, begun with its fields set; or null if no recording takes it. Committed after
     * the wait.
     */
    static GrpcResumeEvent backingOff(
            String method, int attempt, Status status, long position, long itemsInCall, Duration delay) {
        GrpcResumeEvent event = new GrpcResumeEvent();
        if (!event.isEnabled()) {
            return null;
        }
        event.method = method;
        event.correlationId = StageContext.current()
                .map(StageContext::correlationId)
                .orElseGet(CorrelationClientInterceptor::callerId);
        event.attempt = attempt;
        event.status = status.getCode().name();
        event.statusDescription = status.getDescription();
        event.position = position;
        event.itemsInCall = itemsInCall;
        event.delay = delay.toNanos();
        event.begin();
        return event;
    }
}
