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

/** The exception-to-status table of the server side. */
public final class StatusMapping {
    private StatusMapping() {}

    public static Status toStatus(Throwable t) {
        Throwable e = unwrap(t);
        Status status;
        if (e instanceof StatusRuntimeException sre) {
            status = sre.getStatus();
        } else if (e instanceof StatusException se) {
            status = se.getStatus();
        } else if (e instanceof GrpcCallException call) {
            status = call.status();
        } else if (e instanceof IllegalArgumentException) {
            status = Status.INVALID_ARGUMENT.withDescription(e.getMessage());
        } else if (e instanceof NoSuchElementException) {
            status = Status.NOT_FOUND.withDescription(e.getMessage());
        } else if (e instanceof SecurityException) {
            status = Status.PERMISSION_DENIED.withDescription(e.getMessage());
        } else if (e instanceof UnsupportedOperationException) {
            status = Status.UNIMPLEMENTED.withDescription(e.getMessage());
        } else if (e instanceof IllegalStateException) {
            status = Status.FAILED_PRECONDITION.withDescription(e.getMessage());
        } else if (e instanceof TimeoutException) {
            status = Status.DEADLINE_EXCEEDED.withDescription(e.getMessage());
        } else if (e instanceof CancellationException || e instanceof InterruptedException) {
            status = Status.CANCELLED.withDescription("the server's work was cancelled");
        } else {
            // Unknown failures keep their details in the server's log: the message may hold internals.
            status = Status.INTERNAL.withDescription(
                    "internal error (" + e.getClass().getSimpleName() + ")");
        }
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
