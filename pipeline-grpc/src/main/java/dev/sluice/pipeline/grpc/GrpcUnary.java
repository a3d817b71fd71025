package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.CheckedFunction;
import dev.sluice.pipeline.StageContext;
import dev.sluice.pipeline.grpc.internal.CircuitGate;
import dev.sluice.pipeline.grpc.internal.GrpcMeters;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Deadline;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A unary gRPC call with Sluice's resilience, shaped as a stage function: it blocks the calling thread (a virtual
 * stage thread, typically) until the response arrives, so it drops into {@code map} or {@code mapConcurrent}.
 *
 * <pre>{@code
 * GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(channel, ItemServiceGrpc.getGetItemMethod())
 *     .resilience(ResilienceOptions.defaults())
 *     .build();
 * pipeline.mapConcurrent(16, getItem);          // or: .map(id -> getItem.call(requestFor(id)))
 * }</pre>
 *
 * <h2>Resilience</h2>
 * With {@link ResilienceOptions}, each attempt gets the request timeout as its gRPC deadline (an earlier deadline
 * in the call options wins), and a failure whose code is in the status table is retried along the backoff
 * schedule, at most {@code maxRetryAttempts} times. DEADLINE_EXCEEDED is not retried by default. With a circuit
 * breaker, each attempt takes a permission first and an open breaker fails fast. Without options: one attempt, no
 * deadline but the call options'.
 *
 * <h2>Threads, cancellation, failure</h2>
 * Thread-safe: one instance serves any number of concurrent calls on the shared channel. {@link #call} blocks
 * while the call is in flight and while backing off; interrupting the caller (as a pipeline cancellation does)
 * cancels the call in flight and throws {@link InterruptedException}. A final failure throws
 * {@link GrpcCallException}. Retries are counted in {@code pipeline.grpc.retries} when called on a stage thread of
 * a pipeline with a meter registry.
 *
 * @param <Req> the request type
 * @param <Resp> the response type
 */
public final class GrpcUnary<Req, Resp> implements CheckedFunction<Req, Resp> {

    private static final Logger log = LoggerFactory.getLogger(GrpcUnary.class);

    private final Channel channel;
    private final MethodDescriptor<Req, Resp> method;
    private final CallOptions callOptions;
    private final ResilienceOptions options;
    private final CircuitBreaker breaker;
    /** The registry the breaker's gauge was last bound to: a hint that saves a registry lookup per call. */
    private volatile MeterRegistry gaugeRegistry;

    private GrpcUnary(Builder<Req, Resp> b) {
        this.channel = b.channel;
        this.method = b.method;
        this.callOptions = b.callOptions;
        this.options = b.resilience;
        this.breaker = b.breaker;
    }

    /**
     * A builder for calls of {@code method} on {@code channel}.
     *
     * @throws IllegalArgumentException if {@code method} is not unary
     */
    public static <Req, Resp> Builder<Req, Resp> builder(Channel channel, MethodDescriptor<Req, Resp> method) {
        return new Builder<>(channel, method);
    }

    /**
     * Calls the method, retrying as configured, and waits for the response.
     *
     * @throws GrpcCallException if the call failed for good
     * @throws InterruptedException if the calling thread was interrupted; the call in flight was cancelled
     */
    public Resp call(Req request) throws InterruptedException {
        Objects.requireNonNull(request, "request must not be null");
        StageContext context = StageContext.current().orElse(null);
        bindBreakerGauge(context);
        CircuitGate gate = new CircuitGate(breaker);
        int attempts = 0;
        for (int retry = 1; ; retry++) {
            try {
                gate.enter();
            } catch (CallNotPermittedException open) {
                throw new GrpcCallException(
                        Status.UNAVAILABLE
                                .withDescription("circuit breaker open")
                                .withCause(open),
                        method.getFullMethodName(),
                        attempts,
                        0,
                        "the circuit breaker '" + breaker.getName() + "' is " + breaker.getState()
                                + ", so the call fails fast",
                        open);
            }
            attempts++;
            Status status;
            Throwable cause;
            try {
                Resp response = attempt(request);
                gate.progress();
                return response;
            } catch (ExecutionException e) {
                cause = e.getCause();
                status = Status.fromThrowable(cause);
            } catch (InterruptedException | RuntimeException | Error e) {
                gate.neutral();
                throw e;
            }
            boolean retryable = options != null && options.isRetryable(status.getCode());
            // A deadline is not retried (raise the timeout instead), but a target that keeps missing it is failing.
            if (retryable
                    || status.getCode() == Status.Code.DEADLINE_EXCEEDED
                    || (options == null && ResilienceOptions.DEFAULT_RETRYABLE_CODES.contains(status.getCode()))) {
                gate.failure(cause);
            } else {
                gate.neutral();
            }
            if (options == null) {
                throw failure(status, attempts, "the call has no ResilienceOptions, so it makes one attempt", cause);
            }
            if (!retryable) {
                throw failure(
                        status,
                        attempts,
                        status.getCode() + " is not retryable (the status table retries " + options.retryableCodes()
                                + ")",
                        cause);
            }
            if (retry > options.maxRetryAttempts()) {
                throw failure(
                        status,
                        attempts,
                        "gave up after " + options.maxRetryAttempts() + " retries (maxRetryAttempts)",
                        cause);
            }
            Duration wait = options.jitteredBackoff(retry);
            log.warn(
                    "gRPC {} failed with {}; retry {} of {} in {} ms",
                    method.getFullMethodName(),
                    status.getCode(),
                    retry,
                    options.maxRetryAttempts(),
                    wait.toMillis());
            options.sleeper().sleep(wait);
            GrpcMeters.of(context, method.getFullMethodName()).retried(); // looked up only when retrying
        }
    }

    /** Registers the breaker's state gauge in the registry of the calling stage, once per registry in a row. */
    private void bindBreakerGauge(StageContext context) {
        if (breaker == null || context == null) {
            return;
        }
        MeterRegistry registry = context.meterRegistry().orElse(null);
        if (registry != null && registry != gaugeRegistry) {
            GrpcMeters.bindCircuitBreaker(context, breaker);
            gaugeRegistry = registry;
        }
    }

    /** {@link #call}, as a stage function. */
    @Override
    public Resp apply(Req request) throws InterruptedException {
        return call(request);
    }

    /** One attempt; an ExecutionException carries the call's failure. */
    private Resp attempt(Req request) throws InterruptedException, ExecutionException {
        CallOptions attemptOptions = callOptions;
        if (options != null) {
            Deadline perAttempt = Deadline.after(options.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
            Deadline given = callOptions.getDeadline();
            attemptOptions = callOptions.withDeadline(given == null ? perAttempt : given.minimum(perAttempt));
        }
        ClientCall<Req, Resp> call = channel.newCall(method, attemptOptions);
        Future<Resp> response = ClientCalls.futureUnaryCall(call, request);
        try {
            return response.get();
        } catch (InterruptedException e) {
            response.cancel(true); // cancels the call: the server sees CANCELLED
            throw e;
        }
    }

    private GrpcCallException failure(Status status, int attempts, String reason, Throwable cause) {
        return new GrpcCallException(status, method.getFullMethodName(), attempts, 0, reason, cause);
    }

    @Override
    public String toString() {
        return "GrpcUnary[" + method.getFullMethodName() + "]";
    }

    /**
     * Options of a {@link GrpcUnary}. Every setter checks its argument at once; not thread-safe.
     *
     * @param <Req> the request type
     * @param <Resp> the response type
     */
    public static final class Builder<Req, Resp> {
        private final Channel channel;
        private final MethodDescriptor<Req, Resp> method;
        private CallOptions callOptions = CallOptions.DEFAULT;
        private ResilienceOptions resilience;
        private CircuitBreaker breaker;

        private Builder(Channel channel, MethodDescriptor<Req, Resp> method) {
            this.channel = Objects.requireNonNull(channel, "channel must not be null");
            this.method = Objects.requireNonNull(method, "method must not be null");
            if (method.getType() != MethodDescriptor.MethodType.UNARY) {
                throw new IllegalArgumentException(
                        "method must be unary, got " + method.getType() + " for " + method.getFullMethodName());
            }
        }

        /**
         * Call options for every attempt: credentials, compression, executor. A deadline in them is absolute (gRPC
         * fixes it when the options are made), so it bounds every call made with this instance until then; for a
         * deadline per attempt use {@link ResilienceOptions.Builder#requestTimeout}.
         */
        public Builder<Req, Resp> callOptions(CallOptions callOptions) {
            this.callOptions = Objects.requireNonNull(callOptions, "callOptions must not be null");
            return this;
        }

        /** Retries, backoff and the per-attempt deadline; without them one attempt is made. */
        public Builder<Req, Resp> resilience(ResilienceOptions resilience) {
            this.resilience = Objects.requireNonNull(resilience, "resilience must not be null");
            return this;
        }

        /** The circuit breaker of the target, shared by all its calls (see {@link GrpcCircuitBreakers}). */
        public Builder<Req, Resp> circuitBreaker(CircuitBreaker breaker) {
            this.breaker = Objects.requireNonNull(breaker, "breaker must not be null");
            return this;
        }

        public GrpcUnary<Req, Resp> build() {
            return new GrpcUnary<>(this);
        }
    }
}
