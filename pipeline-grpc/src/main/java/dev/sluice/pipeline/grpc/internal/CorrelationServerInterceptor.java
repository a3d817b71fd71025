package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.StageContext;
import dev.sluice.pipeline.grpc.CorrelationIds;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * {@link CorrelationIds#serverInterceptor()}: validates the incoming ID, puts it in the call's {@code Context},
 * and in the MDC around each callback (callbacks of one call may run on different executor threads, so the MDC is
 * set and restored per callback rather than once), and tells the client the ID it used: in the response headers,
 * or in the trailers of a call that ends without having sent headers.
 */
public final class CorrelationServerInterceptor implements ServerInterceptor {

    public static final CorrelationServerInterceptor INSTANCE = new CorrelationServerInterceptor();
    private static final Logger log = LoggerFactory.getLogger(CorrelationIds.class);

    private CorrelationServerInterceptor() {}

    @Override
    public <Req, Resp> ServerCall.Listener<Req> interceptCall(
            ServerCall<Req, Resp> call, Metadata headers, ServerCallHandler<Req, Resp> next) {
        String id = accepted(headers, call.getMethodDescriptor().getFullMethodName());
        Context context = Context.current().withValue(CorrelationIds.CONTEXT_KEY, id);
        ServerCall.Listener<Req> listener =
                inMdc(id, () -> Contexts.interceptCall(context, new EchoingCall<>(call, id), headers, next));
        return new MdcListener<>(listener, id);
    }

    private static String accepted(Metadata headers, String method) {
        Iterable<String> all = headers.getAll(CorrelationIds.HEADER);
        String raw = null;
        int count = 0;
        if (all != null) {
            for (String v : all) {
                raw = v;
                count++;
            }
        }
        if (count == 1 && CorrelationIds.isValid(raw)) {
            return raw;
        }
        String fresh = UUID.randomUUID().toString();
        if (count > 1) {
            log.warn(
                    "call to {} carried {} {} values; using a fresh ID {} instead",
                    method,
                    count,
                    CorrelationIds.HEADER_NAME,
                    fresh);
        } else if (count == 1) {
            log.warn(
                    "call to {} carried an invalid {} of {} characters (allowed: 1-{} of [A-Za-z0-9._:-]); using a"
                            + " fresh ID {} instead",
                    method,
                    CorrelationIds.HEADER_NAME,
                    raw.length(),
                    CorrelationIds.MAX_LENGTH,
                    fresh);
        }
        return fresh;
    }

    /** Runs {@code body} with {@code id} as the MDC's correlation ID, and puts back what the MDC had before. */
    private static <V> V inMdc(String id, Supplier<V> body) {
        String previous = MDC.get(StageContext.MDC_CORRELATION_ID);
        MDC.put(StageContext.MDC_CORRELATION_ID, id);
        try {
            return body.get();
        } finally {
            if (previous == null) {
                MDC.remove(StageContext.MDC_CORRELATION_ID);
            } else {
                MDC.put(StageContext.MDC_CORRELATION_ID, previous);
            }
        }
    }

    /** Adds the ID to the response headers, or to the trailers if the call closes without headers. */
    private static final class EchoingCall<Req, Resp>
            extends ForwardingServerCall.SimpleForwardingServerCall<Req, Resp> {
        private final String id;
        /** ServerCall's methods are called one at a time, but not always from one thread. */
        private volatile boolean headersSent;

        EchoingCall(ServerCall<Req, Resp> delegate, String id) {
            super(delegate);
            this.id = id;
        }

        @Override
        public void sendHeaders(Metadata headers) {
            headers.discardAll(CorrelationIds.HEADER);
            headers.put(CorrelationIds.HEADER, id);
            headersSent = true;
            super.sendHeaders(headers);
        }

        @Override
        public void close(Status status, Metadata trailers) {
            if (!headersSent) {
                trailers.discardAll(CorrelationIds.HEADER);
                trailers.put(CorrelationIds.HEADER, id);
            }
            super.close(status, trailers);
        }
    }

    private static final class MdcListener<Req>
            extends ForwardingServerCallListener.SimpleForwardingServerCallListener<Req> {
        private final String id;

        MdcListener(ServerCall.Listener<Req> delegate, String id) {
            super(delegate);
            this.id = id;
        }

        @Override
        public void onMessage(Req message) {
            withId(() -> super.onMessage(message));
        }

        @Override
        public void onHalfClose() {
            withId(super::onHalfClose);
        }

        @Override
        public void onCancel() {
            withId(super::onCancel);
        }

        @Override
        public void onComplete() {
            withId(super::onComplete);
        }

        @Override
        public void onReady() {
            withId(super::onReady);
        }

        private void withId(Runnable callback) {
            inMdc(id, () -> {
                callback.run();
                return null;
            });
        }
    }
}
