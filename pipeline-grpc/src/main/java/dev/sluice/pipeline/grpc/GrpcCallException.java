package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.internal.check.Require;
import io.grpc.Status;

/**
 * A gRPC call made by a {@link GrpcSource} or {@link GrpcUnary} failed for good: its status was not retryable,
 * the retries ran out, a response could not be parsed (INTERNAL, the parse error as the status's cause), a stream
 * failed past its first item without a {@link ResumeStrategy}, or the target's circuit breaker was open. The message
 * says which, with the method, the status, the attempts and the items delivered; the cause is the last call's
 * exception (a {@code StatusRuntimeException}, or resilience4j's {@code CallNotPermittedException} for an open
 * breaker).
 *
 * <p>A cancellation the caller asked for never surfaces as this exception: it stays an interruption or
 * cancellation of the pipeline.
 *
 * @since 0.1
 */
public final class GrpcCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Status status;
    /** The full gRPC method name. */
    private final String methodName;
    /** Calls made, the failed one included. */
    private final int attempts;
    /** Items passed downstream before the failure. */
    private final long itemsDelivered;

    /**
     * Creates the exception; its message is built from the arguments.
     *
     * @param status the status the call failed with (for an open breaker: UNAVAILABLE)
     * @param methodName the full gRPC method name
     * @param attempts calls made, the failed one included (0 if the breaker refused the first)
     * @param itemsDelivered items passed downstream before the failure (0 for unary calls)
     * @param reason why the failure is final, in words
     * @param cause the last call's exception
     * @throws NullPointerException if {@code status} or {@code methodName} is {@code null}
     */
    public GrpcCallException(
            Status status, String methodName, int attempts, long itemsDelivered, String reason, Throwable cause) {
        super(describe(status, methodName, attempts, itemsDelivered, reason), cause);
        this.status = Require.nonNull(status, "status");
        this.methodName = Require.nonNull(methodName, "methodName");
        this.attempts = attempts;
        this.itemsDelivered = itemsDelivered;
    }

    /**
     * The status the last call ended with.
     *
     * @return the gRPC status, UNAVAILABLE when an open circuit breaker refused the call; never {@code null}
     */
    public Status status() {
        return status;
    }

    /**
     * Shorthand for {@code status().getCode()}.
     *
     * @return the last call's status code
     */
    public Status.Code code() {
        return status.getCode();
    }

    /**
     * The full gRPC method name, such as {@code sluice.items.v1.ItemService/StreamItems}.
     *
     * @return the failed method's full name
     */
    public String methodName() {
        return methodName;
    }

    /**
     * Calls made, the failed one included.
     *
     * @return the number of calls started, 0 if the circuit breaker refused the first
     */
    public int attempts() {
        return attempts;
    }

    /**
     * Items passed downstream before the failure.
     *
     * @return the count of items delivered over all attempts, 0 for a unary call
     */
    public long itemsDelivered() {
        return itemsDelivered;
    }

    private static String describe(Status status, String method, int attempts, long delivered, String reason) {
        StringBuilder b =
                new StringBuilder().append(method).append(" failed with ").append(status.getCode());
        if (status.getDescription() != null) {
            b.append(" (").append(status.getDescription()).append(')');
        }
        b.append(" after ").append(attempts).append(attempts == 1 ? " call" : " calls");
        if (delivered > 0) {
            b.append(" and ")
                    .append(delivered)
                    .append(delivered == 1 ? " item" : " items")
                    .append(" delivered");
        }
        return b.append(": ").append(reason).toString();
    }
}
