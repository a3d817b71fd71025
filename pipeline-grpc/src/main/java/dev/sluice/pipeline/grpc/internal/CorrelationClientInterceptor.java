package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.StageContext;
import dev.sluice.pipeline.grpc.CorrelationIds;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** {@link CorrelationIds#clientInterceptor()}: the ID is chosen on the thread that starts the call. */
public final class CorrelationClientInterceptor implements ClientInterceptor {

    public static final CorrelationClientInterceptor INSTANCE = new CorrelationClientInterceptor();
    private static final Logger log = LoggerFactory.getLogger(CorrelationIds.class);

    private CorrelationClientInterceptor() {}

    @Override
    public <Req, Resp> ClientCall<Req, Resp> interceptCall(
            MethodDescriptor<Req, Resp> method, CallOptions callOptions, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
            @Override
            public void start(Listener<Resp> responseListener, Metadata headers) {
                String id = outgoing();
                if (id != null) {
                    headers.discardAll(CorrelationIds.HEADER); // one value, even if a caller set another
                    headers.put(CorrelationIds.HEADER, id);
                }
                super.start(responseListener, headers);
            }
        };
    }

    /** The ID of the run, the server call or the MDC, made valid; null if there is none. */
    static String outgoing() {
        String id = StageContext.current()
                .map(StageContext::correlationId)
                .orElseGet(CorrelationClientInterceptor::callerId);
        if (id == null || CorrelationIds.isValid(id)) {
            return id;
        }
        String replacement = replacement(id);
        log.warn(
                "correlation ID of {} characters is not a valid {} (1-{} of [A-Za-z0-9._:-]); sending {} instead",
                id.length(),
                CorrelationIds.HEADER_NAME,
                CorrelationIds.MAX_LENGTH,
                replacement);
        return replacement;
    }

    /** Off a stage thread: the ID of the server call being handled, else the MDC's; null if there is none. */
    static String callerId() {
        return CorrelationIds.current().orElseGet(() -> MDC.get(StageContext.MDC_CORRELATION_ID));
    }

    /** What {@code id} is sent as: itself if valid, else a UUID derived from it. */
    static String onTheWire(String id) {
        return CorrelationIds.isValid(id) ? id : replacement(id);
    }

    /** Stable for the same invalid value, so that every call of one run still carries one ID. */
    private static String replacement(String invalid) {
        return UUID.nameUUIDFromBytes(invalid.getBytes(StandardCharsets.UTF_8)).toString();
    }
}
