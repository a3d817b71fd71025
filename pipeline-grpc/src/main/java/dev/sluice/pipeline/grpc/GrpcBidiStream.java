package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.ChannelFailedException;
import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.Scope;
import dev.sluice.pipeline.Stage;
import dev.sluice.pipeline.StageContext;
import dev.sluice.pipeline.grpc.internal.CallObservations;
import dev.sluice.pipeline.grpc.internal.EchoedCorrelationId;
import dev.sluice.pipeline.grpc.internal.GrpcMeters;
import dev.sluice.pipeline.grpc.internal.InboundBuffer;
import dev.sluice.pipeline.grpc.internal.ReadyGate;
import dev.sluice.pipeline.grpc.internal.ResponseParsing;
import dev.sluice.pipeline.grpc.internal.RetryLoop;
import dev.sluice.pipeline.grpc.internal.SentMeter;
import dev.sluice.pipeline.internal.check.Require;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.micrometer.observation.ObservationRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bidirectional-streaming gRPC call as a pipeline stage: the stage's input items go out as the call's requests,
 * and the responses come in as the stage's output, with flow control in both directions.
 *
 * <pre>{@code
 * GrpcBidiStream<Item, Item> exchange = GrpcBidiStream.builder(channel, ShapeServiceGrpc.getExchangeMethod())
 *     .prefetch(64)
 *     .build();
 * Pipeline.from(items).via(exchange).named("exchange").to(Sink.forEach(this::store)).run();
 * }</pre>
 *
 * <h2>Flow control and the memory bound</h2>
 * <ul>
 *   <li><b>Out</b>: a request writer (a virtual thread of the stage) takes an input item and sends it only while the
 *       call {@code isReady()}, parking until gRPC's on-ready callback otherwise: a server that reads slowly holds
 *       the stages before this one back. It holds one item; the transport holds what it accepts before reporting not
 *       ready (in-process: what the server requested; on Netty: the HTTP/2 window plus 32 KiB).</li>
 *   <li><b>In</b>: responses are requested with manual flow control, {@code prefetch} at first, then exactly as
 *       many as the stage has passed downstream, every {@code replenishBatch}: a slow pipeline after the stage holds
 *       the server back (as far as the server respects readiness), and the stage buffers at most {@code prefetch}
 *       responses.</li>
 * </ul>
 * So the stage holds at most {@code prefetch + 2} messages (the responses buffered, one in hand each way) on top of
 * the pipeline's links. Request and response counts need not match: a server may answer several times per request,
 * or once per several.
 *
 * <h2>End, failure, cancellation</h2>
 * When the input ends, the request side is half-closed; the stage completes when the server completes the call,
 * after passing on every response. A server that completes before the input has ended completes the stage too, and
 * the stages before it are finished early (as after a {@code take}). A call that fails (a status, the deadline of
 * {@link Builder#callOptions}, a response that cannot be parsed) fails the run with a {@link GrpcCallException},
 * after the responses received before the failure have been passed on; cancelling the run, a failure elsewhere, or
 * its deadline cancel the call in both directions (the server sees CANCELLED) and end the writer. Nothing is retried:
 * a bidirectional exchange has no general way to resume.
 *
 * <h2>Threads</h2>
 * Immutable and thread-safe; each run makes one call on the shared channel, which is never closed here. The stage's
 * thread passes responses on, the writer thread sends requests; gRPC's callbacks only buffer and never block. With a
 * meter registry: {@code sluice.grpc.sent} (requests), {@code sluice.grpc.requested} and {@code sluice.grpc.received}
 * (responses), tagged {@code pipeline}, {@code stage} and {@code method}.
 *
 * <p><b>Incubating:</b> this API may change in a minor release.
 *
 * @param <Req> the type of the requests, the stage's input
 * @param <Resp> the type of the responses, the stage's output
 * @since 0.1
 */
public final class GrpcBidiStream<Req, Resp> implements Stage<Req, Resp> {

    private static final Logger log = LoggerFactory.getLogger(GrpcBidiStream.class);

    /** The default number of responses requested ahead. */
    public static final int DEFAULT_PREFETCH = 64;

    private final Channel channel;
    private final MethodDescriptor<Req, Resp> method;
    private final CallOptions callOptions;
    private final int prefetch;
    private final int replenishBatch;

    private GrpcBidiStream(Builder<Req, Resp> b, int replenishBatch) {
        this.channel = CallObservations.observed(b.channel, b.observations);
        this.method = b.method;
        this.callOptions = b.callOptions;
        this.prefetch = b.prefetch;
        this.replenishBatch = replenishBatch;
    }

    /**
     * A builder for calls of {@code method} on {@code channel}.
     *
     * @param channel the channel to call on, shared and owned by the application
     * @param method a bidirectional-streaming method
     * @param <Req> the request type
     * @param <Resp> the response type
     * @return a builder with prefetch {@value #DEFAULT_PREFETCH}
     * @throws IllegalArgumentException if {@code method} is not bidirectional-streaming
     * @throws NullPointerException if an argument is null
     * @since 0.1
     */
    public static <Req, Resp> Builder<Req, Resp> builder(Channel channel, MethodDescriptor<Req, Resp> method) {
        return new Builder<>(channel, method);
    }

    /**
     * Runs one call for one run of the pipeline; see the class comment. Called by the pipeline on the stage's thread.
     *
     * @param input the stage's input
     * @param output the stage's output
     * @throws GrpcCallException if the call failed
     * @throws InterruptedException if the run was cancelled or aborted; the call has been cancelled
     * @since 0.1
     */
    @Override
    public void run(Input<Req> input, Emitter<Resp> output) throws InterruptedException {
        StageContext context = output.context();
        String name = method.getFullMethodName();
        GrpcMeters meters = GrpcMeters.of(context, name);
        SentMeter sent = SentMeter.of(context, name);
        InboundBuffer<Resp> responses = new InboundBuffer<>(prefetch);
        Observer observer = new Observer(responses);
        ClientCall<Req, Resp> call =
                EchoedCorrelationId.watch(channel.newCall(method, callOptions), name, context, log);
        ClientCalls.asyncBidiStreamingCall(call, observer);
        meters.requested(prefetch);
        long received = 0;
        boolean ended = false;
        try (Scope scope =
                Scope.builder().name(context.stageName() + "/requests").open()) {
            scope.fork("requests", () -> {
                writeRequests(input, observer, sent);
                return null;
            });
            int sinceRequest = 0;
            for (Resp response; (response = responses.take()) != null; ) {
                output.emit(response);
                received++;
                if (++sinceRequest == replenishBatch) {
                    observer.requests.request(sinceRequest);
                    meters.received(sinceRequest);
                    meters.requested(sinceRequest);
                    sinceRequest = 0;
                }
            }
            meters.received(sinceRequest);
            ended = true;
        } finally {
            if (!ended) {
                observer.requests.cancel("the pipeline run aborted", null); // the writer has been joined
            }
        }
        Status failure = responses.failure();
        if (failure != null) {
            Throwable writerFailure = observer.writerFailure;
            throw new GrpcCallException(
                    RetryLoop.<Void>failure(failure, received).status(),
                    name,
                    1,
                    received,
                    "a bidirectional call is made once (nothing is retried)",
                    writerFailure != null ? writerFailure : failure.asRuntimeException());
        }
    }

    /**
     * The writer thread: sends each input item once the call is ready; half-closes at the end of the input. It never
     * throws: an interrupt or a failed input is the run's abort, reported by the run; anything else cancels the call
     * (so that the stage thread reports the failure) and is kept as the cause.
     */
    private void writeRequests(Input<Req> input, Observer observer, SentMeter sent) {
        try {
            for (Req item; (item = input.receive()) != null; ) {
                if (!observer.gate.awaitReady()) {
                    return; // the call has ended: the stage thread reports how
                }
                observer.requests.onNext(item);
                sent.sent();
            }
            if (observer.open()) {
                observer.requests.onCompleted();
            }
        } catch (InterruptedException | ChannelFailedException abort) {
            // the run is aborting, or the stage thread is done with the call
        } catch (RuntimeException | Error e) {
            observer.writerFailure = e;
            observer.requests.cancel("the request writer failed", e);
        }
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
        return "GrpcBidiStream[" + methodName() + ", prefetch " + prefetch + "]";
    }

    /** The call's callbacks: buffer responses, record the end, release the writer. They never block. */
    private final class Observer implements ClientResponseObserver<Req, Resp> {
        private final InboundBuffer<Resp> responses;
        ClientCallStreamObserver<Req> requests;
        ReadyGate gate;
        private volatile boolean closed;
        /** What the writer failed with, other than an abort; read after the writer was joined. */
        volatile Throwable writerFailure;

        Observer(InboundBuffer<Resp> responses) {
            this.responses = responses;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<Req> requestStream) {
            requests = requestStream;
            gate = new ReadyGate(requestStream);
            requestStream.disableAutoRequestWithInitial(prefetch);
            requestStream.setOnReadyHandler(gate::signal);
        }

        @Override
        public void onNext(Resp value) {
            responses.put(value);
        }

        @Override
        public void onError(Throwable t) {
            closed = true;
            responses.fail(Status.fromThrowable(t));
            gate.close();
        }

        @Override
        public void onCompleted() {
            closed = true;
            responses.complete();
            gate.close();
        }

        boolean open() {
            return !closed;
        }
    }

    /**
     * Options of a {@link GrpcBidiStream}. Every setter checks its argument at once; not thread-safe.
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
        private int prefetch = DEFAULT_PREFETCH;
        private int replenishBatch;
        private ObservationRegistry observations;

        private Builder(Channel channel, MethodDescriptor<Req, Resp> method) {
            this.channel = Require.nonNull(channel, "channel");
            Require.nonNull(method, "method");
            Require.argument(
                    method.getType() == MethodDescriptor.MethodType.BIDI_STREAMING,
                    "method",
                    "be bidirectional-streaming",
                    method.getType() + " for " + method.getFullMethodName());
            this.method = ResponseParsing.guarded(method);
        }

        /**
         * Call options for every call: credentials, compression, a deadline (absolute: it bounds every call made
         * until then).
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
         * Responses requested ahead, and the most the stage buffers: at least 1 (default
         * {@value GrpcBidiStream#DEFAULT_PREFETCH}).
         *
         * @param prefetch the number of responses
         * @return this builder
         * @throws IllegalArgumentException if {@code prefetch < 1}
         * @since 0.1
         */
        public Builder<Req, Resp> prefetch(int prefetch) {
            this.prefetch = Require.atLeast(prefetch, 1, "prefetch");
            return this;
        }

        /**
         * How many responses the stage passes on before it requests that many again: 1 to prefetch (default half the
         * prefetch, at least 1).
         *
         * @param replenishBatch the batch
         * @return this builder
         * @throws IllegalArgumentException if {@code replenishBatch < 1}
         * @since 0.1
         */
        public Builder<Req, Resp> replenishBatch(int replenishBatch) {
            this.replenishBatch = Require.atLeast(replenishBatch, 1, "replenishBatch");
            return this;
        }

        /**
         * Records the call of each run of the stage as a Micrometer {@code Observation} named {@code grpc.client} in {@code registry},
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
         * Builds the stage.
         *
         * @return the stage, for {@code Pipeline.via}
         * @throws IllegalArgumentException if {@code replenishBatch} exceeds {@code prefetch}
         * @since 0.1
         */
        public GrpcBidiStream<Req, Resp> build() {
            int batch = replenishBatch == 0 ? Math.max(1, prefetch / 2) : replenishBatch;
            Require.argument(batch <= prefetch, "replenishBatch", "not exceed prefetch (" + prefetch + ")", batch);
            return new GrpcBidiStream<>(this, batch);
        }
    }
}
