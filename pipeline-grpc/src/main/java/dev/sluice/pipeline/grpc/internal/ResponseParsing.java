package dev.sluice.pipeline.grpc.internal;

import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.InputStream;

/**
 * Tells a response the client cannot parse apart from a cancellation. grpc-java cancels a call whose response
 * marshaller throws and reports it as CANCELLED, the status of a cancellation someone asked for; the guarded
 * marshaller wraps the parse error in a marker, by which {@link #failureStatus} recognises it and reports INTERNAL
 * with the parse error as its cause.
 */
public final class ResponseParsing {

    private ResponseParsing() {}

    /** {@code method} with a response marshaller that marks its parse errors; everything else unchanged. */
    public static <Req, Resp> MethodDescriptor<Req, Resp> guarded(MethodDescriptor<Req, Resp> method) {
        return method.toBuilder(method.getRequestMarshaller(), new GuardedMarshaller<>(method.getResponseMarshaller()))
                .build();
    }

    /** Whether a call that ended with {@code status} ended because a response could not be parsed. */
    static boolean unparsable(Status status) {
        return status.getCause() instanceof UnparsableResponse;
    }

    /**
     * What a call that ended with {@code status} failed with: INTERNAL with the parse error as its cause if a response
     * could not be parsed, else {@code status} itself.
     */
    static Status failureStatus(Status status) {
        if (!(status.getCause() instanceof UnparsableResponse marker)) {
            return status;
        }
        Throwable error = marker.getCause();
        return Status.INTERNAL
                .withDescription("a response could not be parsed ("
                        + error.getClass().getSimpleName() + ": " + error.getMessage() + ")")
                .withCause(error);
    }

    /** The marker around a parse error; it never leaves the module (it is replaced by its cause). */
    private static final class UnparsableResponse extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UnparsableResponse(Throwable parseError) {
            super(parseError.getMessage(), parseError, false, false);
        }
    }

    private record GuardedMarshaller<T>(MethodDescriptor.Marshaller<T> delegate)
            implements MethodDescriptor.Marshaller<T> {

        @Override
        public InputStream stream(T value) {
            return delegate.stream(value);
        }

        @Override
        public T parse(InputStream stream) {
            try {
                return delegate.parse(stream);
            } catch (RuntimeException e) {
                throw new UnparsableResponse(e);
            }
        }
    }
}
