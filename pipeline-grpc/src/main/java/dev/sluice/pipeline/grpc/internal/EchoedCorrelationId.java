package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.StageContext;
import dev.sluice.pipeline.grpc.CorrelationIds;
import io.grpc.ClientCall;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.Status;
import org.slf4j.Logger;

/**
 * The client's side of the correlation ID a server echoes ({@link CorrelationIds#serverInterceptor()} sends the ID
 * it used in the response headers, or in the trailers of a call that ended without headers): when it differs from
 * the ID this side sends (the server replaced an invalid or missing one, or keeps IDs of its own), one log line, and
 * the run's summary attribute {@link CorrelationIds#ATTRIBUTE_SERVER_CORRELATION_ID}, so that the audit trail can
 * lead to the server's logs. An echoed value that is not a valid ID is ignored, and never logged raw.
 */
public final class EchoedCorrelationId {

    private EchoedCorrelationId() {}

    /**
     * {@code call}, watched for the ID its server used. Called on the thread that makes the call, whose ID (the run's
     * if {@code context} is not null, else the server call's or the MDC's) is the one compared.
     *
     * @param context the stage the call is made from, or null off a stage thread
     * @param log the logger of the public class that makes the call
     */
    public static <Req, Resp> ClientCall<Req, Resp> watch(
            ClientCall<Req, Resp> call, String method, StageContext context, Logger log) {
        String ours = context != null ? context.correlationId() : CorrelationClientInterceptor.callerId();
        return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
            @Override
            public void start(Listener<Resp> listener, Metadata headers) {
                super.start(new Watching<>(listener, method, ours, context, log), headers);
            }
        };
    }

    /** Reads the echo once: from the headers, or from the trailers of a call that had none. Callbacks are serial. */
    private static final class Watching<Resp>
            extends ForwardingClientCallListener.SimpleForwardingClientCallListener<Resp> {
        private final String method;
        private final String ours;
        private final StageContext context;
        private final Logger log;
        private boolean read;

        Watching(ClientCall.Listener<Resp> delegate, String method, String ours, StageContext context, Logger log) {
            super(delegate);
            this.method = method;
            this.ours = ours;
            this.context = context;
            this.log = log;
        }

        @Override
        public void onHeaders(Metadata headers) {
            read(headers);
            super.onHeaders(headers);
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            read(trailers);
            super.onClose(status, trailers);
        }

        private void read(Metadata metadata) {
            if (read) {
                return;
            }
            read = true;
            String theirs = metadata.get(CorrelationIds.HEADER);
            if (theirs == null || theirs.equals(ours)) {
                return; // no echo, or ours: the common case, a string comparison
            }
            String sent = ours == null ? null : CorrelationClientInterceptor.onTheWire(ours);
            if (theirs.equals(sent)) {
                return;
            }
            if (!CorrelationIds.isValid(theirs)) {
                log.debug(
                        "gRPC {}: the server echoed a {} of {} characters that is not a valid ID; ignored",
                        method,
                        CorrelationIds.HEADER_NAME,
                        theirs.length());
                return;
            }
            if (context != null) {
                context.attribute(CorrelationIds.ATTRIBUTE_SERVER_CORRELATION_ID, theirs);
            }
            if (sent == null) {
                log.debug("gRPC {}: the server used correlation ID {}", method, theirs);
            } else {
                log.info("gRPC {}: the server used correlation ID {}, not {}", method, theirs, sent);
            }
        }
    }
}
