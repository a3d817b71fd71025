package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.grpc.GrpcCallException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * The exception-to-status table of the server side, in one place: {@code ServerStreams.statusFor} and the
 * exception-mapping interceptor both use it. A pattern switch, so that the compiler refuses an order in which a case
 * would hide a narrower one (a {@link CancellationException} is an {@link IllegalStateException} too).
 */
public final class StatusMapping {
    private StatusMapping() {}

    public static Status toStatus(Throwable t) {
        Throwable e = unwrap(t);
        Status status = switch (e) {
            case StatusRuntimeException sre -> sre.getStatus();
            case StatusException se -> se.getStatus();
            case GrpcCallException call -> call.status();
            case IllegalArgumentException bad -> Status.INVALID_ARGUMENT.withDescription(bad.getMessage());
            case NoSuchElementException missing -> Status.NOT_FOUND.withDescription(missing.getMessage());
            case SecurityException denied -> Status.PERMISSION_DENIED.withDescription(denied.getMessage());
            case UnsupportedOperationException unsupported ->
                Status.UNIMPLEMENTED.withDescription(unsupported.getMessage());
            case CancellationException cancelled -> Status.CANCELLED.withDescription("the server's work was cancelled");
            case InterruptedException interrupted ->
                Status.CANCELLED.withDescription("the server's work was cancelled");
            case IllegalStateException state -> Status.FAILED_PRECONDITION.withDescription(state.getMessage());
            case TimeoutException slow -> Status.DEADLINE_EXCEEDED.withDescription(slow.getMessage());
            // Unknown failures keep their details in the server's log: the message may hold internals.
            default ->
                Status.INTERNAL.withDescription(
                        "internal error (" + e.getClass().getSimpleName() + ")");
        };
        return status.withCause(t);
    }

    private static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof PipelineFailedException
                        || e instanceof ExecutionException
                        || e instanceof CompletionException)
                && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
