package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.StageContext;
import dev.sluice.pipeline.grpc.internal.CallObservations;
import dev.sluice.pipeline.grpc.internal.CircuitGate;
import dev.sluice.pipeline.grpc.internal.ClientStreamCall;
import dev.sluice.pipeline.grpc.internal.GrpcMeters;
import dev.sluice.pipeline.grpc.internal.ResponseParsing;
import dev.sluice.pipeline.grpc.internal.RetryLoop;
import dev.sluice.pipeline.grpc.internal.SentMeter;
import dev.sluice.pipeline.internal.check.Require;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Deadline;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.micrometer.observation.ObservationRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client-streaming gRPC call as the end of a pipeline: the pipeline's items go to the server as the call's
 * request stream, and the server's response becomes the run's value.
 *
 * <pre>{@code
 * GrpcClientStream<Item, UploadSummary> upload =
 *     GrpcClientStream.builder(channel, ShapeServiceGrpc.getUploadMethod()).build();
 * UploadSummary summary = Pipeline.from(items).to(upload.sink()).run().value();     // one call per run
 * List<UploadSummary> perChunk = Pipeline.from(items).to(upload.sinkPerCall(1_000)).run().value();
 * }</pre>
 *
 * <h2>Flow control</h2>
 * The sink sends a message only while the call {@code isReady()}, and otherwise parks its thread until gRPC's
 * on-ready callback wakes it: a slow server stops the sink, the sink's full input stops the stages before it, and
 * the source stops. What sits between the pipeline and the server is what the transport holds before it reports
 * not ready: in-process, the messages the server has requested and not yet taken; on Netty, the HTTP/2 window (1 MiB
 * to start with, auto-tuned) plus 32 KiB queued on the client stream. The sink itself holds one item, except with
 * {@link Builder#retryWholeCalls}, where it holds the call's items until the call has answered (see below).
 *
 * <h2>Calls and values</h2>
 * <ul>
 *   <li>{@link #sink()}: one call per run; the run's value is its response. An empty input still makes the call
 *       (the server answers an empty stream).</li>
 *   <li>{@link #sinkPerCall(int)}: a new call every {@code itemsPerCall} items (the last call may have fewer);
 *       the run's value is the list of responses, in order, one per call.</li>
 *   <li>{@link #batchSink()}: one call per input list (after {@code Pipeline.batch}); the value is the list of
 *       responses. An empty list makes no call.</li>
 * </ul>
 * The value lists hold one response per call: choose the call size so that they stay small. An item of a source that
 * acknowledges its items ({@code Emitter.emit(item, ack)}) is acknowledged as processed only once the call that
 * carried it has its response; the items of a call still under way when the run ends are released, so a checkpoint
 * never passes an item the server has not answered for.
 *
 * <h2>Failure, cancellation, deadline</h2>
 * A call that fails ends the run with a {@link GrpcCallException} (its {@code itemsDelivered} is what the failed call
 * had sent): at once if the sink is waiting to send or for the response, otherwise when the next item reaches the
 * sink or the input ends. A server that completes the call before the client's stream has ended fails the run the
 * same way (the rest of the items would be lost), with or without retry. Cancelling the run, its failure elsewhere,
 * or its deadline cancel the call in flight: the server sees CANCELLED. A deadline in {@link Builder#callOptions}
 * bounds every call. Under an error policy of the sink's own ({@code sink.onError(ErrorPolicy.skip())} or
 * {@code deadLetter}), a call that fails has every item it carried skipped or dead-lettered, and the next item starts
 * a new call ({@link #sinkPerCall}, {@link #batchSink}); {@link #sink()}'s one call cannot be made again, so every
 * later item fails, and the run fails at the end of its input.
 *
 * <h2>Retry: only for idempotent servers</h2>
 * Without {@link Builder#retryWholeCalls}, nothing is retried. With it, each call's items are kept until the call has
 * answered, and a call that fails with a retryable status is made again, whole, with the same items, along the
 * backoff of the {@link ResilienceOptions} (each attempt bounded by its request timeout as its deadline). The server
 * may then see an item twice (in the failed call and in its repetition), so enable it only where the server treats a
 * repeated call as one (an upsert keyed by the items, a call ID it deduplicates). Available for
 * {@link #sinkPerCall(int)} and {@link #batchSink()}, whose calls have a bounded size; memory: one call's items.
 *
 * <h2>Threads</h2>
 * Immutable and thread-safe; each run opens its own calls on the shared channel, which is never closed here. The
 * sink's stage thread sends and waits; gRPC's callbacks never block. With a meter registry, messages sent are counted
 * in {@code sluice.grpc.sent} and retries in {@code sluice.grpc.retries}, tagged {@code pipeline}, {@code stage} and
 * {@code method}.
 *
 * <p><b>Incubating:</b> this API may change in a minor release.
 *
 * @param <Req> the type of the streamed requests, the sink's items
 * @param <Resp> the type of the response
 * @since 0.1
 */
public final class GrpcClientStream<Req, Resp> {

    private static final Logger log = LoggerFactory.getLogger(GrpcClientStream.class);

    private final Channel channel;
    private final MethodDescriptor<Req, Resp> method;
    private final CallOptions callOptions;
    private final ResilienceOptions retry;
    private final CircuitBreaker breaker;

    private GrpcClientStream(Builder<Req, Resp> b) {
        this.channel = CallObservations.observed(b.channel, b.observations);
        this.method = b.method;
        this.callOptions = b.callOptions;
        this.retry = b.retry;
        this.breaker = b.breaker;
    }

    /**
     * A builder for calls of {@code method} on {@code channel}.
     *
     * @param channel the channel to call on, shared and owned by the application
     * @param method a client-streaming method
     * @param <Req> the request type
     * @param <Resp> the response type
     * @return a builder with no retry and no circuit breaker
     * @throws IllegalArgumentException if {@code method} is not client-streaming
     * @throws NullPointerException if an argument is null
     * @since 0.1
     */
    public static <Req, Resp> Builder<Req, Resp> builder(Channel channel, MethodDescriptor<Req, Resp> method) {
        return new Builder<>(channel, method);
    }

    /**
     * A sink that makes one call per run and whose value is the call's response.
     *
     * @return a sink named {@code grpc-upload}, usable for any number of runs
     * @throws IllegalStateException if whole-call retry is enabled (a call of unbounded size cannot be kept for a
     *     repetition; use {@link #sinkPerCall(int)} or {@link #batchSink()})
     * @since 0.1
     */
    public Sink<Req, Resp> sink() {
        if (retry != null) {
            throw new IllegalStateException("retryWholeCalls(...) needs calls of bounded size, to keep their items for"
                    + " a repetition: use sinkPerCall(n) or batchSink(), or drop the retry for one call per run");
        }
        return Sink.<Req, Resp>of(context -> new PerRun(context)).named("grpc-upload");
    }

    /**
     * A sink that makes a new call every {@code itemsPerCall} items, the last call with what remains, and whose value
     * is the list of the calls' responses, in order.
     *
     * @param itemsPerCall at least 1
     * @return a sink named {@code grpc-upload}
     * @throws IllegalArgumentException if {@code itemsPerCall < 1}
     * @since 0.1
     */
    public Sink<Req, List<Resp>> sinkPerCall(int itemsPerCall) {
        Require.atLeast(itemsPerCall, 1, "itemsPerCall");
        return Sink.<Req, List<Resp>>of(context -> new PerCount(context, itemsPerCall))
                .named("grpc-upload");
    }

    /**
     * A sink that makes one call per input list (the lists {@code Pipeline.batch} makes) and whose value is the list of
     * the calls' responses, in order. An empty list makes no call.
     *
     * @return a sink named {@code grpc-upload}
     * @since 0.1
     */
    public Sink<List<Req>, List<Resp>> batchSink() {
        return Sink.<List<Req>, List<Resp>>of(context -> new PerBatch(context)).named("grpc-upload");
    }

    /**
     * The full gRPC method name.
     *
     * @return the method's full name
     * @since 0.1
     */
    public String methodName() {
        return method.getFullMethodName();
    }

    @Override
    public String toString() {
        return "GrpcClientStream[" + methodName() + (retry == null ? "" : ", whole-call retry") + "]";
    }

    // ------------------------------------------------------------------------------------------- live calls

    /** A call whose items go out as they arrive; settles the breaker itself. Sink thread only. */
    private final class Live {
        private final ClientStreamCall<Req, Resp> call;
        private final CircuitGate gate = new CircuitGate(breaker);

        Live(StageContext context, SentMeter meter) {
            try {
                gate.enter();
            } catch (CallNotPermittedException open) {
                throw new GrpcCallException(
                        Status.UNAVAILABLE
                                .withDescription("circuit breaker open")
                                .withCause(open),
                        methodName(),
                        0,
                        0,
                        "the circuit breaker '" + breaker.getName() + "' is " + breaker.getState()
                                + ", so the call fails fast",
                        open);
            }
            call = ClientStreamCall.start(channel, method, callOptions, context, meter, log);
        }

        void send(Req item) throws InterruptedException {
            if (!call.send(item)) {
                throw ended(call.awaitEnd(), "the call ended before the client's stream did");
            }
        }

        Resp finish() throws InterruptedException {
            Status status = call.finish();
            if (!status.isOk()) {
                throw ended(status, "the call failed");
            }
            gate.progress();
            return call.response();
        }

        void abort(Throwable cause) {
            call.cancel("the pipeline run aborted", cause);
            gate.neutral();
        }

        private GrpcCallException ended(Status status, String what) {
            RetryLoop.Failure<Void> failure =
                    RetryLoop.failure(status.isOk() ? completedEarly(call.sent()) : status, call.sent());
            RetryLoop.settleFailure(gate, failure, null);
            Status s = failure.status();
            return new GrpcCallException(
                    s,
                    methodName(),
                    1,
                    call.sent(),
                    what + " (a client-streaming call without whole-call retry is made once)",
                    s.asRuntimeException());
        }
    }

    /** One call per run: every item sent is unconfirmed until the call's response. */
    private final class PerRun implements Sink.Writer<Req, Resp> {
        private final Live call;
        private int sent;

        PerRun(StageContext context) {
            this.call = new Live(context, SentMeter.of(context, methodName()));
        }

        @Override
        public void write(Req item) throws InterruptedException {
            try {
                call.send(item);
            } catch (GrpcCallException failed) {
                sent = 0; // the items it carried are lost with it: they share its failure
                throw failed;
            }
            sent++;
        }

        @Override
        public int unconfirmed() {
            return sent;
        }

        @Override
        public Resp complete() throws InterruptedException {
            return call.finish();
        }

        @Override
        public void abort(Throwable cause) {
            call.abort(cause);
        }
    }

    /**
     * One call per {@code itemsPerCall} items: live, or kept for a whole-call retry. The items of the call under way
     * (sent or kept) are unconfirmed until its response.
     */
    private final class PerCount implements Sink.Writer<Req, List<Resp>> {
        private final StageContext context;
        private final SentMeter meter;
        private final int itemsPerCall;
        private final List<Resp> responses = new ArrayList<>();
        private final List<Req> kept;
        private Live live;
        private int inCall;

        PerCount(StageContext context, int itemsPerCall) {
            this.context = context;
            this.meter = SentMeter.of(context, methodName());
            this.itemsPerCall = itemsPerCall;
            this.kept = retry == null ? null : new ArrayList<>(Math.min(itemsPerCall, 1024));
        }

        @Override
        public void write(Req item) throws InterruptedException {
            if (kept != null) {
                kept.add(item);
                if (kept.size() == itemsPerCall) {
                    try {
                        responses.add(callWithRetry(kept, context, meter));
                    } finally {
                        kept.clear(); // answered, or failed for good: its items share the failure
                    }
                }
                return;
            }
            if (live == null) {
                live = new Live(context, meter);
            }
            try {
                live.send(item);
                if (++inCall == itemsPerCall) {
                    responses.add(live.finish());
                    live = null;
                    inCall = 0;
                }
            } catch (GrpcCallException failed) {
                // The call failed with the items it carried, which share its failure; the next item starts a new one.
                live = null;
                inCall = 0;
                throw failed;
            }
        }

        @Override
        public int unconfirmed() {
            return kept != null ? kept.size() : inCall;
        }

        @Override
        public List<Resp> complete() throws InterruptedException {
            if (kept != null && !kept.isEmpty()) {
                responses.add(callWithRetry(kept, context, meter));
                kept.clear();
            } else if (live != null) {
                responses.add(live.finish());
                live = null;
            }
            return responses;
        }

        @Override
        public void abort(Throwable cause) {
            if (live != null) {
                live.abort(cause);
            }
        }
    }

    /** One call per input list. */
    private final class PerBatch implements Sink.Writer<List<Req>, List<Resp>> {
        private final StageContext context;
        private final SentMeter meter;
        private final List<Resp> responses = new ArrayList<>();
        private Live live;

        PerBatch(StageContext context) {
            this.context = context;
            this.meter = SentMeter.of(context, methodName());
        }

        @Override
        public void write(List<Req> items) throws InterruptedException {
            if (items.isEmpty()) {
                return;
            }
            if (retry != null) {
                responses.add(callWithRetry(items, context, meter));
                return;
            }
            live = new Live(context, meter);
            for (Req item : items) {
                live.send(item);
            }
            responses.add(live.finish());
            live = null;
        }

        @Override
        public List<Resp> complete() {
            return responses;
        }

        @Override
        public void abort(Throwable cause) {
            if (live != null) {
                live.abort(cause);
            }
        }
    }

    // -------------------------------------------------------------------------------------- whole-call retry

    /** Makes one call of {@code items}, repeated whole on a retryable failure; the sink thread blocks throughout. */
    private Resp callWithRetry(List<Req> items, StageContext context, SentMeter meter) throws InterruptedException {
        RetryLoop loop = new RetryLoop(method, retry, breaker, false, () -> GrpcMeters.of(context, methodName()), log);
        return loop.run(attempt -> {
            Deadline perAttempt = Deadline.after(retry.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
            Deadline given = callOptions.getDeadline();
            boolean ownDeadline = given == null || perAttempt.isBefore(given);
            CallOptions options = attempt.callOptions(callOptions.withDeadline(ownDeadline ? perAttempt : given));
            ClientStreamCall<Req, Resp> call = ClientStreamCall.start(channel, method, options, context, meter, log);
            try {
                boolean allSent = true;
                for (Req item : items) {
                    if (!call.send(item)) {
                        allSent = false;
                        break;
                    }
                }
                Status status = allSent ? call.finish() : call.awaitEnd();
                loop.sentInCall(call.sent());
                if (status.isOk() && allSent) {
                    return new RetryLoop.Success<>(call.response());
                }
                if (status.isOk()) {
                    return RetryLoop.failure(completedEarly(call.sent()), 0);
                }
                if (ownDeadline && status.getCode() == Status.Code.DEADLINE_EXCEEDED && attempt.neverConnected()) {
                    return RetryLoop.noConnection(
                            retry.requestTimeout(), "the request timeout, the attempt's deadline");
                }
                return RetryLoop.failure(status, 0);
            } catch (InterruptedException e) {
                call.cancel("the pipeline run aborted", e);
                throw e;
            }
        });
    }

    /**
     * How a call the server completed before the client's stream ended is reported: its items past {@code sent} were
     * never sent, so it fails.
     */
    private static Status completedEarly(long sent) {
        return Status.CANCELLED.withDescription("the server completed the call after " + sent
                + " items, before the client's stream ended; the remaining items were not sent");
    }

    // ------------------------------------------------------------------------------------------------ builder

    /**
     * Options of a {@link GrpcClientStream}. Every setter checks its argument at once; not thread-safe.
     *
     * <p><b>Incubating:</b> this API may change in a minor release.
     *
     * @param <Req> the request type
     * @param <Resp> the response type
     * @since 0.1
     */
    public static final class Builder<Req, Resp> {
        private final Channel channel;
        private final MethodDescriptor<Req, Resp> method;
        private CallOptions callOptions = CallOptions.DEFAULT;
        private ResilienceOptions retry;
        private CircuitBreaker breaker;
        private ObservationRegistry observations;

        private Builder(Channel channel, MethodDescriptor<Req, Resp> method) {
            this.channel = Require.nonNull(channel, "channel");
            Require.nonNull(method, "method");
            Require.argument(
                    method.getType() == MethodDescriptor.MethodType.CLIENT_STREAMING,
                    "method",
                    "be client-streaming",
                    method.getType() + " for " + method.getFullMethodName());
            this.method = ResponseParsing.guarded(method);
        }

        /**
         * Call options for every call: credentials ({@code withCallCredentials} for a bearer token), compression,
         * executor, a deadline (absolute: it bounds every call made until then).
         *
         * @param callOptions the options
         * @return this builder
         * @throws NullPointerException if {@code callOptions} is null
         * @since 0.1
         */
        public Builder<Req, Resp> callOptions(CallOptions callOptions) {
            this.callOptions = Require.nonNull(callOptions, "callOptions");
            return this;
        }

        /**
         * Repeats a failed call whole, with the same items, as {@code options} allow (see the class comment): only
         * for a server that treats a repeated call as one. Only {@link #sinkPerCall(int)} and {@link #batchSink()}
         * accept it.
         *
         * @param options the retry schedule, retryable codes and per-attempt timeout
         * @return this builder
         * @throws NullPointerException if {@code options} is null
         * @since 0.1
         */
        public Builder<Req, Resp> retryWholeCalls(ResilienceOptions options) {
            this.retry = Require.nonNull(options, "options");
            return this;
        }

        /**
         * The circuit breaker of the target, shared by all its calls (see {@link GrpcCircuitBreakers}): each call takes
         * a permission first, and an open breaker fails the run fast.
         *
         * @param breaker the breaker
         * @return this builder
         * @throws NullPointerException if {@code breaker} is null
         * @since 0.1
         */
        public Builder<Req, Resp> circuitBreaker(CircuitBreaker breaker) {
            this.breaker = Require.nonNull(breaker, "breaker");
            return this;
        }

        /**
         * Records each call the sink makes as a Micrometer {@code Observation} named {@code grpc.client} in {@code registry},
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
         * Builds the immutable call description.
         *
         * @return the client stream
         * @since 0.1
         */
        public GrpcClientStream<Req, Resp> build() {
            return new GrpcClientStream<>(this);
        }
    }
}
