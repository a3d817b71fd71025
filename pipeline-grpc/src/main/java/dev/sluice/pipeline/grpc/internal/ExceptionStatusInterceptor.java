package dev.sluice.pipeline.grpc.internal;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a call whose handler threw with the mapped status (gRPC alone would send UNKNOWN). Callbacks of one call
 * are serialised by gRPC; {@code closed} is atomic because a handler may also close the call from another thread.
 */
public final class ExceptionStatusInterceptor implements ServerInterceptor {

    public static final ExceptionStatusInterceptor INSTANCE = new ExceptionStatusInterceptor();
    private static final Logger log = LoggerFactory.getLogger("dev.sluice.pipeline.grpc.ServerStreams");

    private ExceptionStatusInterceptor() {}

    @Override
    public <Req, Resp> ServerCall.Listener<Req> interceptCall(
            ServerCall<Req, Resp> call, Metadata headers, ServerCallHandler<Req, Resp> next) {
        AtomicBoolean closed = new AtomicBoolean();
        ServerCall<Req, Resp> tracking = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                closed.set(true);
                super.close(status, trailers);
            }
        };
        ServerCall.Listener<Req> listener;
        try {
            listener = next.startCall(tracking, headers);
        } catch (RuntimeException e) {
            closeWith(tracking, closed, e);
            return new ServerCall.Listener<>() {};
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onMessage(Req message) {
                guarded(() -> super.onMessage(message));
            }

            @Override
            public void onHalfClose() {
                guarded(super::onHalfClose);
            }

            @Override
            public void onReady() {
                guarded(super::onReady);
            }

            /** Runs a callback of the handler; if it throws, closes the call with the mapped status. */
            private void guarded(Runnable callback) {
                try {
                    callback.run();
                } catch (RuntimeException e) {
                    closeWith(tracking, closed, e);
                }
            }
        };
    }

    private static void closeWith(ServerCall<?, ?> call, AtomicBoolean closed, RuntimeException e) {
        Status status = StatusMapping.toStatus(e);
        if (status.getCode() == Status.Code.INTERNAL) {
            log.warn(
                    "handler of {} threw; closing the call with INTERNAL",
                    call.getMethodDescriptor().getFullMethodName(),
                    e);
        } else {
            log.debug(
                    "handler of {} threw; closing the call with {}",
                    call.getMethodDescriptor().getFullMethodName(),
                    status.getCode(),
                    e);
        }
        if (!closed.get()) {
            try {
                call.close(status, new Metadata());
            } catch (IllegalStateException alreadyClosed) {
                log.debug("call was already closed", alreadyClosed);
            }
        }
    }
}
