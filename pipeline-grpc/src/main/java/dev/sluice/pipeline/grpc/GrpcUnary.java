package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.CheckedFunction;
import dev.sluice.pipeline.StageContext;
import dev.sluice.pipeline.grpc.internal.CallObservations;
import dev.sluice.pipeline.grpc.internal.EchoedCorrelationId;
import dev.sluice.pipeline.grpc.internal.GrpcMeters;
import dev.sluice.pipeline.grpc.internal.ResponseParsing;
import dev.sluice.pipeline.grpc.internal.RetryLoop;
import dev.sluice.pipeline.internal.check.Require;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.micrometer.observation.ObservationRegistry;
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
 * schedule, at most {@code maxRetryAttempts} times. Every retry waits for the channel to be ready, within its
 * deadline, so a server that restarts is reached once the channel has reconnected; a retry whose deadline passes
 * before that fails with UNAVAILABLE. DEADLINE_EXCEEDED is not retried by default, and a response that cannot be
 * parsed never is (INTERNAL, the parse error as its cause). With a circuit breaker, each attempt takes a permission
 * first and an open breaker fails fast; what it records is stated in {@link GrpcCircuitBreakers}. Without options:
 * one attempt, no deadline but the call options'.
 *
 * <h2>The caller's gRPC context</h2>
 * Each attempt is made in the gRPC {@code Context} current on the calling thread (a stage of a pipeline served by
 * {@link ServerStreams} runs in one with the served call's deadline, cancelled when the served call is, just after
 * the run is cancelled; see {@link GrpcContextAccessor}): the earliest of its deadline, the call options' and the
 * request timeout bounds the attempt, and its cancellation cancels the call in flight. Once that context is cancelled (or its
 * deadline has passed), a failed attempt is not retried.
 *
 * <h2>Threads, cancellation, failure</h2>
 * Thread-safe: one instance serves any number of concurrent calls on the shared channel. {@link #call} blocks
 * while the call is in flight and while backing off; interrupting the caller (as a pipeline cancellation does)
 * cancels the call in flight and throws {@link InterruptedException}. A final failure throws
 * {@link GrpcCallException}. Retries are counted in {@code sluice.grpc.retries} when called on a stage thread of
 * a pipeline with a meter registry.
 *
 * @param <Req> the request type
 * @param <Resp> the response type
 * @since 0.1
 */
public final class GrpcUnary<Req, Resp> implements CheckedFunction<Req, Resp> {

    private static final Logger log = LoggerFactory.getLogger(GrpcUnary.class);

    private final Channel channel;
    private final MethodDescriptor<Req, Resp> method;
    private final CallOptions callOptions;
    private final ResilienceOptions options;
    private final CircuitBreaker breaker;

    private GrpcUnary(Builder<Req, Resp> b) {
        this.channel = CallObservations.observed(b.channel, b.observations);
        this.method = b.method;
        this.callOptions = b.callOptions;
        this.options = b.resilience;
        this.breaker = b.breaker;
    }

    /**
     * A builder for calls of {@code method} on {@code channel}. The calls are made with a copy of {@code method}
     * whose response marshaller marks its parse errors: interceptors see the same name, type and messages, in
     * another {@code MethodDescriptor} instance.
     *
     * @param <Req> the request type
     * @param <Resp> the response type
     * @param channel the channel the calls are made on (with any interceptors already applied)
     * @param method the unary method to call
     * @return a new builder with the defaults: one attempt, no breaker, {@link CallOptions#DEFAULT}
     * @throws NullPointerException if {@code channel} or {@code method} is {@code null}
     * @throws IllegalArgumentException if {@code method} is not unary
     */
    public static <Req, Resp> Builder<Req, Resp> builder(Channel channel, MethodDescriptor<Req, Resp> method) {
        return new Builder<>(channel, method);
    }

    /**
     * Calls the method, retrying as configured, and waits for the response.
     *
     * @param request the request sent with every attempt
     * @return the response of the first successful attempt
     * @throws NullPointerException if {@code request} is {@code null}
     * @throws GrpcCallException if the call failed for good
     * @throws InterruptedException if the calling thread was interrupted; the call in flight was cancelled
     */
    public Resp call(Req request) throws InterruptedException {
        Require.nonNull(request, "request");
        StageContext context = StageContext.current().orElse(null);
        RetryLoop loop = new RetryLoop(
                method, options, breaker, false, () -> GrpcMeters.of(context, method.getFullMethodName()), log);
        return loop.run(attempt -> attempt(request, attempt, context));
    }

    /** {@link #call}, as a stage function. */
    @Override
    public Resp apply(Req request) throws InterruptedException {
        return call(request);
    }

    /** One attempt: waits for the response; cancels the call if the thread is interrupted. */
    private RetryLoop.Outcome<Resp> attempt(Req request, RetryLoop.Attempt attempt, StageContext context)
            throws InterruptedException {
        CallOptions attemptOptions = callOptions;
        boolean ownDeadline = false; // whether the per-attempt deadline is the one that binds
        if (options != null) {
            Deadline perAttempt = Deadline.after(options.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
            Deadline given = callOptions.getDeadline();
            Deadline inherited = Context.current().getDeadline(); // gRPC applies it too, at the call's start
            ownDeadline = (given == null || perAttempt.isBefore(given))
                    && (inherited == null || perAttempt.isBefore(inherited));
            attemptOptions = callOptions.withDeadline(given == null || perAttempt.isBefore(given) ? perAttempt : given);
        }
        ClientCall<Req, Resp> call = EchoedCorrelationId.watch(
                channel.newCall(method, attempt.callOptions(attemptOptions)), method.getFullMethodName(), context, log);
        Future<Resp> response = ClientCalls.futureUnaryCall(call, request);
        try {
            return new RetryLoop.Success<>(response.get());
        } catch (InterruptedException e) {
            response.cancel(true); // cancels the call: the server sees CANCELLED
            throw e;
        } catch (ExecutionException e) {
            Status status = Status.fromThrowable(e.getCause());
            if (ownDeadline && status.getCode() == Status.Code.DEADLINE_EXCEEDED && attempt.neverConnected()) {
                return RetryLoop.noConnection(options.requestTimeout(), "the request timeout, the attempt's deadline");
            }
            return RetryLoop.failure(status, 0);
        }
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
        private ObservationRegistry observations;

        private Builder(Channel channel, MethodDescriptor<Req, Resp> method) {
            this.channel = Require.nonNull(channel, "channel");
            Require.nonNull(method, "method");
            Require.argument(
                    method.getType() == MethodDescriptor.MethodType.UNARY,
                    "method",
                    "be unary",
                    method.getType() + " for " + method.getFullMethodName());
            this.method = ResponseParsing.guarded(method);
        }

        /**
         * Call options for every attempt: credentials, compression, executor. A deadline in them is absolute (gRPC
         * fixes it when the options are made), so it bounds every call made with this instance until then; for a
         * deadline per attempt use {@link ResilienceOptions.Builder#requestTimeout}.
         *
         * @param callOptions the options every attempt starts from (default {@link CallOptions#DEFAULT})
         * @return this builder
         * @throws NullPointerException if {@code callOptions} is {@code null}
         */
        public Builder<Req, Resp> callOptions(CallOptions callOptions) {
            this.callOptions = Require.nonNull(callOptions, "callOptions");
            return this;
        }

        /**
         * Retries, backoff and the per-attempt deadline; without them one attempt is made.
         *
         * @param resilience which failures are retried, how often and after what delay, and each attempt's timeout
         * @return this builder
         * @throws NullPointerException if {@code resilience} is {@code null}
         */
        public Builder<Req, Resp> resilience(ResilienceOptions resilience) {
            this.resilience = Require.nonNull(resilience, "resilience");
            return this;
        }

        /**
         * The circuit breaker of the target, shared by all its calls (see {@link GrpcCircuitBreakers}).
         *
         * @param breaker the target's breaker; each attempt takes a permission first and fails fast while it is open
         * @return this builder
         * @throws NullPointerException if {@code breaker} is {@code null}
         */
        public Builder<Req, Resp> circuitBreaker(CircuitBreaker breaker) {
            this.breaker = Require.nonNull(breaker, "breaker");
            return this;
        }

        /**
         * Records each call (each attempt of {@link GrpcUnary#call}) as a Micrometer {@code Observation} named {@code grpc.client} in {@code registry},
         * with Micrometer's own {@code ObservationGrpcClientInterceptor} in front of the channel: a child of the
         * observation current where the call starts, which in a stage is the run's when the pipeline has
         * {@code observationRegistry} too. With a tracer bridged to the registry, each call is a span and carries the
         * trace context in its metadata to the server. Each attempt of a retried call is a call of its own. Without it
         * (the default) calls are observed only if the channel has such an interceptor already.
         *
         * @param registry where each call's observation is recorded
         * @return this builder
         * @throws NullPointerException if {@code registry} is {@code null}
         * @since 0.1
         */
        public Builder<Req, Resp> observationRegistry(ObservationRegistry registry) {
            this.observations = Require.nonNull(registry, "registry");
            return this;
        }

        /**
         * Builds the unary call.
         *
         * @return a new {@link GrpcUnary} with this builder's options; the builder can be changed and reused
         */
        public GrpcUnary<Req, Resp> build() {
            return new GrpcUnary<>(this);
        }
    }
}
