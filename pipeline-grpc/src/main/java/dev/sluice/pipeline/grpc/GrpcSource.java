package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.grpc.internal.CallObservations;
import dev.sluice.pipeline.grpc.internal.GrpcSourceRun;
import dev.sluice.pipeline.grpc.internal.ResponseParsing;
import dev.sluice.pipeline.grpc.internal.StreamSpec;
import dev.sluice.pipeline.internal.check.Require;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.stub.MetadataUtils;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;

/**
 * A pipeline {@link Source} that reads a server-streaming gRPC call, with manual flow control so that a slow
 * pipeline slows the server down, across the network.
 *
 * <pre>{@code
 * Source<Item> items = GrpcSource.builder(channel, ItemServiceGrpc.getStreamItemsMethod(), request)
 *     .prefetch(256)                                    // messages requested ahead
 *     .resilience(ResilienceOptions.defaults())         // retry, idle timeout
 *     .resumeWith((original, last) -> original.toBuilder().setResumeAfter(last.getCursor()).build())
 *     .build();
 * Pipeline.from(items).map(...).to(sink).run();
 * }</pre>
 *
 * <h2>Flow control</h2>
 * Each call asks for {@code prefetch} messages up front and, each time the source has passed
 * {@code replenishBatch} of them downstream, asks for exactly that many more. The gRPC callbacks only buffer (at
 * most {@code prefetch} messages) and never block, so the channel may run its calls on a direct executor. The
 * server is held back as far as its transport allows: per message in-process, per byte (the HTTP/2 window) on
 * Netty, where it runs ahead by up to {@code prefetch} messages plus what the window holds (1 MiB to start with,
 * auto-tuned; {@code NettyChannelBuilder.flowControlWindow} fixes it smaller).
 *
 * <h2>Latency and throughput</h2>
 * While a stream is quiet, each message goes downstream as soon as it arrives. While messages flow faster than
 * the source's thread can be woken for each (a wake-up from the transport's thread costs more CPU than decoding a
 * small message), the source lets them gather and passes them on together: it is woken when a
 * replenish batch has arrived (fewer when the batch is more than half the prefetch), or at the latest
 * {@code maxBatchDelay} after it began to wait (default {@link #DEFAULT_MAX_BATCH_DELAY}, 200 µs). So a message
 * waits at most that much longer than it would have, and a fast stream keeps the CPU for decoding it. A wait
 * that runs out before its batch has come makes the source wake for every message again; a stream in lock-step
 * with the pipeline (the server sends the next message once the last is through) is never held.
 * {@code maxBatchDelay(Duration.ZERO)} wakes the source for every message, for the lowest latency at the highest
 * CPU cost. A graceful stop still delivers every message received, including those waiting for their batch.
 * Waits of 200 µs or more are ended by one daemon thread shared by all sources, {@code sluice-grpc-batch-timer}: it
 * starts with the first running source that needs it and ends a second after the last such run ends.
 *
 * <h2>Threads and blocking</h2>
 * {@link #produce} runs on the source's stage thread and blocks it: while waiting for messages, while the
 * pipeline is full, and while backing off between retries. An instance is immutable and thread-safe; each run of
 * the pipeline makes its own calls on the shared channel, which is never closed here (one {@code ManagedChannel}
 * per target, owned by the application).
 *
 * <h2>Cancellation and failure</h2>
 * Cancelling or stopping the pipeline, or a {@code take} downstream finishing it early, interrupts the source; it then
 * cancels its call (the server sees CANCELLED and its cancel handler runs) and ends. A graceful stop first hands over
 * every message received, including those the transport delivers until the cancelled call has ended. A call that fails
 * is retried or resumed as {@link ResilienceOptions} and the {@link ResumeStrategy} allow; each retry and resume
 * waits for the channel to be ready, for at most the request timeout, so a server that restarts is reached once the
 * channel has reconnected. Otherwise the source, and with it the run, fails with a {@link GrpcCallException}; a
 * message the source cannot parse fails it with INTERNAL (the parse error as its cause), never retried. Without
 * {@code ResilienceOptions} the source makes one call and has no idle timeout.
 *
 * <p>Each call is made in the gRPC {@code Context} of the source's stage thread: in a pipeline served by
 * {@link ServerStreams}, the run's own (the served call's deadline, cancelled when the served call is, just after the
 * run is cancelled); in one that names {@link GrpcContextAccessor}, the starting thread's. The call is bounded by the
 * earlier of that context's deadline and its call options', and cancelled with the context, after which it is not
 * retried.
 *
 * <h2>Run summary</h2>
 * The source records {@value #ATTRIBUTE_METHOD}, {@value #ATTRIBUTE_STATUS} (the final status code: OK, CANCELLED,
 * UNAVAILABLE…), {@value #ATTRIBUTE_ATTEMPTS} (calls made) and {@value #ATTRIBUTE_RESUMES} (calls that resumed
 * after a delivered item) in the run's summary attributes, and {@value CorrelationIds#ATTRIBUTE_SERVER_CORRELATION_ID}
 * when the server used another correlation ID than the run's (see {@link CorrelationIds}); and with a meter registry,
 * the counters {@code sluice.grpc.requested}, {@code .received}, {@code .retries} and {@code .resumes}, tagged
 * {@code pipeline}, {@code stage} and {@code method}. A circuit breaker's state is published by resilience4j's own
 * binder (see {@link GrpcCircuitBreakers}).
 *
 * @param <Req> the request type
 * @param <Resp> the type of the streamed messages, the source's items
 * @since 0.1
 */
public final class GrpcSource<Req, Resp> implements Source<Resp> {

    /** Summary attribute: the full gRPC method name. */
    public static final String ATTRIBUTE_METHOD = "grpc.method";
    /** Summary attribute: the name of the last call's status code ({@code OK} for a completed stream). */
    public static final String ATTRIBUTE_STATUS = "grpc.status";
    /** Summary attribute: the number of calls made (an Integer). */
    public static final String ATTRIBUTE_ATTEMPTS = "grpc.attempts";
    /** Summary attribute: the number of calls that resumed the stream after a delivered item (an Integer). */
    public static final String ATTRIBUTE_RESUMES = "grpc.resumes";

    /** The default number of messages requested ahead. */
    public static final int DEFAULT_PREFETCH = 256;

    /** The default longest wait of a flowing stream's messages for one another: 200 µs (see the class comment). */
    public static final Duration DEFAULT_MAX_BATCH_DELAY = Duration.ofNanos(200_000);

    /** The largest {@code maxBatchDelay} accepted: one second. */
    public static final Duration MAX_BATCH_DELAY_LIMIT = Duration.ofSeconds(1);

    private final StreamSpec<Req, Resp> spec;

    private GrpcSource(StreamSpec<Req, Resp> spec) {
        this.spec = spec;
    }

    /**
     * A builder for a source that calls {@code method} with {@code request} on {@code channel}. The calls are made
     * with a copy of {@code method} whose response marshaller marks its parse errors: interceptors see the same name,
     * type and messages, in another {@code MethodDescriptor} instance.
     *
     * @param <Req> the request type
     * @param <Resp> the type of the streamed messages
     * @param channel the channel the calls are made on (with any interceptors already applied)
     * @param method the server-streaming method to call
     * @param request the request sent with every call; a {@link ResumeStrategy} may replace it on a resume
     * @return a new builder with the defaults, each of which can be changed before {@link Builder#build()}
     * @throws NullPointerException if {@code channel}, {@code method} or {@code request} is {@code null}
     * @throws IllegalArgumentException if {@code method} is not server-streaming
     */
    public static <Req, Resp> Builder<Req, Resp> builder(
            Channel channel, MethodDescriptor<Req, Resp> method, Req request) {
        return new Builder<>(channel, method, request);
    }

    /**
     * A source with the defaults: prefetch {@value #DEFAULT_PREFETCH}, one call, no retry.
     *
     * @param <Req> the request type
     * @param <Resp> the type of the streamed messages
     * @param channel the channel the call is made on
     * @param method the server-streaming method to call
     * @param request the request sent with the call
     * @return a new source; each pipeline run that uses it makes its own call
     * @throws NullPointerException if {@code channel}, {@code method} or {@code request} is {@code null}
     * @throws IllegalArgumentException if {@code method} is not server-streaming
     */
    public static <Req, Resp> GrpcSource<Req, Resp> of(
            Channel channel, MethodDescriptor<Req, Resp> method, Req request) {
        return builder(channel, method, request).build();
    }

    /** Streams the call's messages into the pipeline; see the class comment for blocking and failure. */
    @Override
    public void produce(Emitter<Resp> emitter) throws InterruptedException {
        new GrpcSourceRun<>(spec).run(emitter);
    }

    /**
     * The full gRPC method name.
     *
     * @return the called method's full name, such as {@code sluice.items.v1.ItemService/StreamItems}
     */
    public String methodName() {
        return spec.method().getFullMethodName();
    }

    @Override
    public String toString() {
        return "GrpcSource[" + methodName() + ", prefetch " + spec.prefetch() + "]";
    }

    /**
     * Options of a {@link GrpcSource}. Every setter checks its argument at once; not thread-safe.
     *
     * @param <Req> the request type
     * @param <Resp> the message type
     */
    public static final class Builder<Req, Resp> {
        private final Channel channel;
        private final MethodDescriptor<Req, Resp> method;
        private final Req request;
        private CallOptions callOptions = CallOptions.DEFAULT;
        private Metadata headers;
        private int prefetch = DEFAULT_PREFETCH;
        private int replenishBatch;
        private Duration maxBatchDelay = DEFAULT_MAX_BATCH_DELAY;
        private ResilienceOptions resilience;
        private ResumeStrategy<Req, Resp> resume;
        private CircuitBreaker breaker;
        private ObservationRegistry observations;

        private Builder(Channel channel, MethodDescriptor<Req, Resp> method, Req request) {
            this.channel = Require.nonNull(channel, "channel");
            this.method = Require.nonNull(method, "method");
            this.request = Require.nonNull(request, "request");
            Require.argument(
                    method.getType() == MethodDescriptor.MethodType.SERVER_STREAMING,
                    "method",
                    "be server-streaming",
                    method.getType() + " for " + method.getFullMethodName());
        }

        /**
         * Call options for every call: credentials, compression, executor, wait-for-ready. A deadline in them is
         * absolute and bounds every call of every run made until then, resumes included; a stream usually wants
         * none (see {@link ResilienceOptions} for the idle timeout).
         *
         * @param callOptions the options every call starts from (default {@link CallOptions#DEFAULT})
         * @return this builder
         * @throws NullPointerException if {@code callOptions} is {@code null}
         */
        public Builder<Req, Resp> callOptions(CallOptions callOptions) {
            this.callOptions = Require.nonNull(callOptions, "callOptions");
            return this;
        }

        /**
         * Headers sent with every call (copied now).
         *
         * @param headers the headers; later changes to this object do not reach the calls
         * @return this builder
         * @throws NullPointerException if {@code headers} is {@code null}
         */
        public Builder<Req, Resp> headers(Metadata headers) {
            Require.nonNull(headers, "headers");
            Metadata copy = new Metadata();
            copy.merge(headers);
            this.headers = copy;
            return this;
        }

        /**
         * Messages requested ahead of the pipeline, and the most the source buffers: at least 1 (default
         * {@value GrpcSource#DEFAULT_PREFETCH}). Memory per run: prefetch × message size.
         *
         * @param prefetch messages requested from the server before any is consumed
         * @return this builder
         * @throws IllegalArgumentException if {@code prefetch < 1}
         */
        public Builder<Req, Resp> prefetch(int prefetch) {
            this.prefetch = Require.atLeast(prefetch, 1, "prefetch");
            return this;
        }

        /**
         * How many messages the source passes downstream before it requests that many again: 1 to prefetch
         * (default half the prefetch, at least 1). Smaller batches mean more request frames, larger ones a
         * burstier server.
         *
         * @param replenishBatch messages consumed between two requests for more; checked against the prefetch by
         *     {@link #build()}
         * @return this builder
         * @throws IllegalArgumentException if {@code replenishBatch < 1}
         */
        public Builder<Req, Resp> replenishBatch(int replenishBatch) {
            this.replenishBatch = Require.atLeast(replenishBatch, 1, "replenishBatch");
            return this;
        }

        /**
         * While messages flow, the longest the source waits for a replenish batch of them before it passes on what
         * has arrived: 0 to 1 s (default {@link GrpcSource#DEFAULT_MAX_BATCH_DELAY}, 200 µs). A message that finds
         * the source waiting for one is never held; {@link Duration#ZERO} holds none (see the class comment).
         *
         * @param maxBatchDelay the longest a message that arrived may wait for others before it is passed on
         * @return this builder
         * @throws NullPointerException if {@code maxBatchDelay} is {@code null}
         * @throws IllegalArgumentException if {@code maxBatchDelay} is negative or longer than
         *     {@link GrpcSource#MAX_BATCH_DELAY_LIMIT}
         */
        public Builder<Req, Resp> maxBatchDelay(Duration maxBatchDelay) {
            this.maxBatchDelay = Require.between(maxBatchDelay, Duration.ZERO, MAX_BATCH_DELAY_LIMIT, "maxBatchDelay");
            return this;
        }

        /**
         * Retries, backoff and the stream idle timeout; without them the source makes one call.
         *
         * @param resilience which failures are retried, how often and after what delay, and the idle timeout
         * @return this builder
         * @throws NullPointerException if {@code resilience} is {@code null}
         */
        public Builder<Req, Resp> resilience(ResilienceOptions resilience) {
            this.resilience = Require.nonNull(resilience, "resilience");
            return this;
        }

        /**
         * How to continue a stream that broke past its first item; without one such a failure is final.
         *
         * @param resume builds the request of the resumed call from the last item delivered; needs
         *     {@link #resilience} too, else {@link #build()} refuses it
         * @return this builder
         * @throws NullPointerException if {@code resume} is {@code null}
         */
        public Builder<Req, Resp> resumeWith(ResumeStrategy<Req, Resp> resume) {
            this.resume = Require.nonNull(resume, "resume");
            return this;
        }

        /**
         * The circuit breaker of the target, shared by all its calls (see {@link GrpcCircuitBreakers}). Each call
         * takes a permission first; while the breaker is open, the source fails fast.
         *
         * @param breaker the target's breaker, usually from {@link GrpcCircuitBreakers#forTarget}
         * @return this builder
         * @throws NullPointerException if {@code breaker} is {@code null}
         */
        public Builder<Req, Resp> circuitBreaker(CircuitBreaker breaker) {
            this.breaker = Require.nonNull(breaker, "breaker");
            return this;
        }

        /**
         * Records each call (the stream, and each retry or resume of it) as a Micrometer {@code Observation} named {@code grpc.client} in {@code registry},
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
         * Builds the source.
         *
         * @return a new, immutable source with this builder's options; the builder can be changed and reused
         * @throws IllegalArgumentException if {@code replenishBatch} exceeds {@code prefetch}, or a resume strategy
         *     is set without resilience options (it would never be used)
         */
        public GrpcSource<Req, Resp> build() {
            int batch = replenishBatch == 0 ? Math.max(1, prefetch / 2) : replenishBatch;
            Require.argument(batch <= prefetch, "replenishBatch", "not exceed prefetch (" + prefetch + ")", batch);
            Require.argument(
                    resume == null || resilience != null,
                    "resumeWith",
                    "come with resilience(...) (without ResilienceOptions a failed call is never retried, so the"
                            + " strategy would never be used)",
                    "a ResumeStrategy and no ResilienceOptions");
            Channel observed = CallObservations.observed(channel, observations);
            Channel target = headers == null
                    ? observed
                    : ClientInterceptors.intercept(observed, MetadataUtils.newAttachHeadersInterceptor(headers));
            return new GrpcSource<>(new StreamSpec<>(
                    target,
                    ResponseParsing.guarded(method),
                    request,
                    callOptions,
                    prefetch,
                    batch,
                    maxBatchDelay,
                    resilience,
                    resume,
                    breaker));
        }
    }
}
