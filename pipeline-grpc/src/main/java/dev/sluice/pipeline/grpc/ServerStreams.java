package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.Outcome;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.PipelineListener;
import dev.sluice.pipeline.PipelineSummary;
import dev.sluice.pipeline.RunnablePipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.grpc.internal.ClientStreamAnswer;
import dev.sluice.pipeline.grpc.internal.ExceptionStatusInterceptor;
import dev.sluice.pipeline.grpc.internal.IncomingStream;
import dev.sluice.pipeline.grpc.internal.ReadyGate;
import dev.sluice.pipeline.grpc.internal.ServedRunContext;
import dev.sluice.pipeline.grpc.internal.ServerMeters;
import dev.sluice.pipeline.grpc.internal.StatusMapping;
import dev.sluice.pipeline.internal.check.Require;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side: serve a pipeline's items as a server stream, at the pace the client's flow control allows.
 *
 * <pre>{@code
 * @Override
 * public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
 *     ServerStreams.serve(Pipeline.from(itemsAfter(request.getResumeAfter())), responses);   // returns at once
 * }
 * }</pre>
 *
 * <h2>What {@link #serve(Pipeline, StreamObserver)} does</h2>
 * <ul>
 *   <li>Before it returns, it sets the call's cancel and ready handlers (gRPC allows that only while the handler
 *       method runs), then starts the pipeline, and returns at once: it never blocks the handler, and the
 *       handlers it sets never block a gRPC callback.</li>
 *   <li>The pipeline ends in a writer stage: one virtual thread that sends items while the call
 *       {@code isReady()}, and otherwise parks until the ready handler wakes it and checks again (a ready
 *       signal can be spurious). So a client that stops requesting stops the writer, the writer's full input
 *       stops the stages before it, and the producer stops: memory stays bounded by the pipeline's buffers.</li>
 *   <li>A client cancellation, or the call's deadline passing, cancels the pipeline: every stage thread is
 *       interrupted and ends; nothing is left running. The pipeline also runs with the call's remaining deadline
 *       as its own.</li>
 *   <li>When the pipeline completes, the call completes. When it fails, the call is closed with the status
 *       {@link #statusFor(Throwable)} gives the failure; when it passes its deadline, with DEADLINE_EXCEEDED.</li>
 *   <li>With {@link CorrelationIds#serverInterceptor()} on the service, the pipeline runs under the call's
 *       correlation ID, so its stage threads log with it.</li>
 *   <li>Every thread of the pipeline runs in a gRPC {@link Context} of the run's own (see
 *       {@link GrpcContextAccessor}), even with {@code propagateContext(false)}. It has the served call's values and
 *       deadline, so every call made from a stage ({@link GrpcSource}, {@link GrpcUnary}, a plain stub) is bounded by
 *       the served call's deadline, and it passes that deadline as the call does. It is not cancelled with the call:
 *       when the client cancels, the run is cancelled first, then this context, and with it every call a stage has in
 *       flight; it is cancelled too once the run has ended. So a run the client cancels ends CANCELLED, even when a
 *       stage starts or finishes a call at that instant.</li>
 * </ul>
 *
 * <h2>Meters</h2>
 * With a meter registry on the served pipeline, every call served here (by {@code serve}, {@code clientStreaming} or
 * {@code bidiStreaming}) is counted in function counters tagged {@code pipeline} (the served pipeline's name; name
 * each method's pipeline to tell them apart): {@code sluice.grpc.server.calls} (calls whose pipeline started),
 * {@code sluice.grpc.server.cancellations} (of those, the ones cancelled from the client's side: a cancel, the
 * deadline, a lost connection), {@code sluice.grpc.server.received} (client messages the pipeline's source took) and
 * {@code sluice.grpc.server.sent} (responses written; one per completed client-streaming call).
 *
 * @since 0.1
 */
public final class ServerStreams {

    private static final Logger log = LoggerFactory.getLogger(ServerStreams.class);
    private static final GrpcContextAccessor GRPC_CONTEXT = new GrpcContextAccessor();

    /** The name of the writer stage at the end of a served pipeline. */
    public static final String WRITER_STAGE = "grpc-writer";

    private ServerStreams() {}

    /**
     * Serves {@code source}'s items into {@code responses}; see {@link #serve(Pipeline, StreamObserver)}.
     *
     * @param <T> the response message type
     * @param source produces the response messages, as the source of a pipeline run started now
     * @param responses the observer gRPC passed to the service method: a {@link ServerCallStreamObserver}
     * @return the handle of the pipeline run (tests and metrics may watch it; the call owns its lifecycle)
     */
    public static <T> PipelineHandle<Long> serve(Source<? extends T> source, StreamObserver<T> responses) {
        Require.nonNull(source, "source");
        return serve(Pipeline.<T>from(source), responses);
    }

    /**
     * Runs {@code pipeline} into the call behind {@code responses} and returns at once. Call it from the service
     * method itself (not later, and not from another thread), since it sets the call's handlers.
     *
     * @param <T> the response message type
     * @param pipeline the pipeline whose items are written as the call's responses, with the call's flow control;
     *     it is run now, with a {@value #WRITER_STAGE} stage added at its end
     * @param responses the observer gRPC passed to the service method: a {@link ServerCallStreamObserver}
     * @return the handle of the pipeline run
     * @throws NullPointerException if {@code pipeline} or {@code responses} is {@code null}
     * @throws IllegalArgumentException if {@code responses} is not the observer of a server call
     */
    public static <T> PipelineHandle<Long> serve(Pipeline<T> pipeline, StreamObserver<T> responses) {
        return serve(pipeline, responses, new ServerMeters.Call());
    }

    private static <T> PipelineHandle<Long> serve(
            Pipeline<T> pipeline, StreamObserver<T> responses, ServerMeters.Call meters) {
        Require.nonNull(pipeline, "pipeline");
        Require.nonNull(responses, "responses");
        Require.argument(
                responses instanceof ServerCallStreamObserver<T>,
                "responses",
                "be the ServerCallStreamObserver gRPC passed to the service method",
                responses.getClass().getName());
        ServerCallStreamObserver<T> call = (ServerCallStreamObserver<T>) responses;
        Context callContext = Context.current();
        // The stages run in a context of their own, cancelled only after the run: see ServedRunContext.
        ServedRunContext stages = ServedRunContext.of(callContext);
        try {
            return start(pipeline, call, meters, callContext, stages);
        } catch (RuntimeException | Error e) {
            stages.cancel(); // no run was started: there is nothing to settle first
            throw e;
        }
    }

    private static <T> PipelineHandle<Long> start(
            Pipeline<T> pipeline,
            ServerCallStreamObserver<T> call,
            ServerMeters.Call meters,
            Context callContext,
            ServedRunContext stages) {
        ReadyGate gate = new ReadyGate(call);
        AtomicReference<PipelineHandle<Long>> handle = new AtomicReference<>();
        CallEnd end = new CallEnd(call, handle, meters, stages);
        // Both handlers must be set before the service method returns.
        call.setOnCancelHandler(end::cancelHandler);
        call.setOnReadyHandler(gate::signal);
        // The call's context is cancelled with the call; this listener cancels the run, then the stages' context. A
        // passing deadline is left to the run's own and to the stages' context's own, the same instant.
        callContext.addListener(
                cancelled -> {
                    Deadline d = cancelled.getDeadline();
                    if (d == null || !d.isExpired()) {
                        end.clientCancelled();
                    }
                },
                Runnable::run);

        Pipeline<T> p = pipeline.listener(end, Duration.ofDays(1)) // no progress callbacks wanted
                .propagate(GRPC_CONTEXT); // to every thread of the run: the context current at start, `stages`
        String correlationId = CorrelationIds.current().orElse(null);
        if (correlationId != null) {
            p = p.correlationId(correlationId);
        }
        RunnablePipeline<Long> runnable = p.to(Sink.<T, Long>of(context -> {
                    meters.started(context);
                    return new CallWriter<>(call, gate, meters);
                })
                .named(WRITER_STAGE));

        PipelineHandle<Long> started = stages.start(runnable);
        handle.set(started);
        if (end.cancelled) {
            stages.cancelAfter(started); // the client cancelled before the handle was there
        }
        return started;
    }

    /** The default number of client messages a served client or bidirectional stream requests ahead. */
    public static final int DEFAULT_INBOUND_PREFETCH = 64;

    /**
     * Serves a client-streaming call with a pipeline: the client's messages are the pipeline's {@link Source}, and
     * the run's value is the one response. Call it from the service method and return what it returns:
     *
     * <pre>{@code
     * @Override
     * public StreamObserver<Item> upload(StreamObserver<UploadSummary> responses) {
     *     return ServerStreams.clientStreaming(responses, items -> Pipeline.from(items)
     *             .map(this::store)
     *             .to(Sink.reduce(UploadSummary.getDefaultInstance(),
     *                     (summary, stored) -> summary.toBuilder().setCount(summary.getCount() + 1).build())));
     * }
     * }</pre>
     *
     * <p>Equivalent to {@link #clientStreaming(StreamObserver, int, Function)} with a prefetch of
     * {@value #DEFAULT_INBOUND_PREFETCH}.
     *
     * <p><b>Incubating:</b> this API may change in a minor release.
     *
     * @param responses the observer gRPC passed to the service method
     * @param handler builds the pipeline from the client's messages; called once, at once, on this thread
     * @param <Req> the type of the client's messages
     * @param <Resp> the type of the response
     * @return the request observer for gRPC
     * @throws IllegalArgumentException if {@code responses} is not the observer of a server call
     * @since 0.1
     */
    public static <Req, Resp> StreamObserver<Req> clientStreaming(
            StreamObserver<Resp> responses, Function<? super Source<Req>, RunnablePipeline<Resp>> handler) {
        return clientStreaming(responses, DEFAULT_INBOUND_PREFETCH, handler);
    }

    /**
     * Serves a client-streaming call with a pipeline, requesting the client's messages {@code prefetch} ahead.
     *
     * <ul>
     *   <li>Flow control: the source requests {@code prefetch} messages when the run starts and, each time half of
     *       that has gone downstream, exactly as many again: a slow pipeline stops requesting, and the client's
     *       {@code isReady} turns false once the transport is full. The server holds at most {@code prefetch}
     *       messages beyond its pipeline's links.</li>
     *   <li>The run starts at once, with the call's remaining deadline as its own, and this method returns without
     *       blocking. When the run completes, its value is sent as the response and the call completes (a null value
     *       closes the call with INTERNAL); when it fails, the call is closed with {@link #statusFor(Throwable)} of
     *       the failure; when it passes its deadline, with DEADLINE_EXCEEDED.</li>
     *   <li>A client that cancels (or whose deadline passes) cancels the run: every stage thread is interrupted. A
     *       client stream that fails ends the source with the call's status.</li>
     *   <li>A pipeline that carries the gRPC context ({@code propagate(new GrpcContextAccessor())}) carries one of the
     *       run's own, as {@link #serve(Pipeline, StreamObserver)}'s stages do: the call's values and deadline,
     *       cancelled (with the calls its stages have in flight) just after the run is cancelled, and when the run
     *       has ended.</li>
     *   <li>One virtual thread per call waits for the run's end to answer the call; it ends with the run. The source
     *       can run once.</li>
     * </ul>
     *
     * <p><b>Incubating:</b> this API may change in a minor release.
     *
     * @param responses the observer gRPC passed to the service method: a {@link ServerCallStreamObserver}
     * @param prefetch the most client messages requested ahead and buffered, at least 1
     * @param handler builds the pipeline from the client's messages; called once, at once, on this thread
     * @param <Req> the type of the client's messages
     * @param <Resp> the type of the response
     * @return the request observer for gRPC, to be returned by the service method
     * @throws IllegalArgumentException if {@code responses} is not the observer of a server call, or
     *     {@code prefetch < 1}
     * @since 0.1
     */
    public static <Req, Resp> StreamObserver<Req> clientStreaming(
            StreamObserver<Resp> responses,
            int prefetch,
            Function<? super Source<Req>, RunnablePipeline<Resp>> handler) {
        ServerCallStreamObserver<Resp> call = serverCall(responses);
        Require.atLeast(prefetch, 1, "prefetch");
        Require.nonNull(handler, "handler");
        ServerMeters.Call meters = new ServerMeters.Call();
        IncomingStream<Req> incoming = new IncomingStream<>(call, prefetch, meters);
        RunnablePipeline<Resp> runnable = Require.nonNull(handler.apply(incoming.source()), "the handler's pipeline");
        String correlationId = CorrelationIds.current().orElse(null);
        if (correlationId != null) {
            runnable = runnable.correlationId(correlationId); // the caller's, as serve() gives its pipeline
        }
        ClientStreamAnswer.start(call, runnable, meters);
        return incoming.observer();
    }

    /**
     * Serves a bidirectional-streaming call with a pipeline: the client's messages are the pipeline's
     * {@link Source}, and its items are the responses, written as {@link #serve(Pipeline, StreamObserver)} writes them
     * (only while the call is ready; cancellation, deadline and failure as there). Equivalent to
     * {@link #bidiStreaming(StreamObserver, int, Function)} with a prefetch of {@value #DEFAULT_INBOUND_PREFETCH}.
     *
     * <pre>{@code
     * @Override
     * public StreamObserver<Item> exchange(StreamObserver<Item> responses) {
     *     return ServerStreams.bidiStreaming(responses, items -> Pipeline.from(items).map(this::answer));
     * }
     * }</pre>
     *
     * <p><b>Incubating:</b> this API may change in a minor release.
     *
     * @param responses the observer gRPC passed to the service method
     * @param handler builds the pipeline from the client's messages; called once, at once, on this thread
     * @param <Req> the type of the client's messages
     * @param <Resp> the type of the responses
     * @return the request observer for gRPC
     * @throws IllegalArgumentException if {@code responses} is not the observer of a server call
     * @since 0.1
     */
    public static <Req, Resp> StreamObserver<Req> bidiStreaming(
            StreamObserver<Resp> responses, Function<? super Source<Req>, Pipeline<Resp>> handler) {
        return bidiStreaming(responses, DEFAULT_INBOUND_PREFETCH, handler);
    }

    /**
     * Serves a bidirectional-streaming call with a pipeline, requesting the client's messages {@code prefetch} ahead
     * (flow control as in {@link #clientStreaming(StreamObserver, int, Function)}). The server holds at most
     * {@code prefetch} client messages, its pipeline's links, and one response waiting for the call to be ready.
     * When the client half-closes, the source ends and the pipeline drains; when it completes, the call completes.
     *
     * <p><b>Incubating:</b> this API may change in a minor release.
     *
     * @param responses the observer gRPC passed to the service method: a {@link ServerCallStreamObserver}
     * @param prefetch the most client messages requested ahead and buffered, at least 1
     * @param handler builds the pipeline from the client's messages; called once, at once, on this thread
     * @param <Req> the type of the client's messages
     * @param <Resp> the type of the responses
     * @return the request observer for gRPC, to be returned by the service method
     * @throws IllegalArgumentException if {@code responses} is not the observer of a server call, or
     *     {@code prefetch < 1}
     * @since 0.1
     */
    public static <Req, Resp> StreamObserver<Req> bidiStreaming(
            StreamObserver<Resp> responses, int prefetch, Function<? super Source<Req>, Pipeline<Resp>> handler) {
        ServerCallStreamObserver<Resp> call = serverCall(responses);
        Require.atLeast(prefetch, 1, "prefetch");
        Require.nonNull(handler, "handler");
        ServerMeters.Call meters = new ServerMeters.Call();
        IncomingStream<Req> incoming = new IncomingStream<>(call, prefetch, meters);
        serve(Require.nonNull(handler.apply(incoming.source()), "the handler's pipeline"), call, meters);
        return incoming.observer();
    }

    private static <T> ServerCallStreamObserver<T> serverCall(StreamObserver<T> responses) {
        Require.nonNull(responses, "responses");
        Require.argument(
                responses instanceof ServerCallStreamObserver<T>,
                "responses",
                "be the ServerCallStreamObserver gRPC passed to the service method",
                responses.getClass().getName());
        return (ServerCallStreamObserver<T>) responses;
    }

    /**
     * The status a failure maps to: a gRPC status exception keeps its status; {@link GrpcCallException} its
     * call's; IllegalArgumentException → INVALID_ARGUMENT; NoSuchElementException → NOT_FOUND;
     * SecurityException → PERMISSION_DENIED; UnsupportedOperationException → UNIMPLEMENTED;
     * IllegalStateException → FAILED_PRECONDITION; TimeoutException → DEADLINE_EXCEEDED; a cancellation or
     * interruption → CANCELLED; anything else → INTERNAL, with only the exception's class name as description
     * (its message stays in the server's log). A pipeline failure is mapped by its cause.
     *
     * @param failure what ended the call or the pipeline
     * @return the status to close the call with; never OK
     * @throws NullPointerException if {@code failure} is {@code null}
     */
    public static Status statusFor(Throwable failure) {
        return StatusMapping.toStatus(Require.nonNull(failure, "failure"));
    }

    /**
     * A server interceptor that closes a call whose handler throws with {@link #statusFor(Throwable)}'s status,
     * instead of gRPC's UNKNOWN. Stateless; install once per service.
     *
     * @return a shared, stateless interceptor
     */
    public static ServerInterceptor exceptionMapping() {
        return ExceptionStatusInterceptor.INSTANCE;
    }

    /** The writer stage: sends each item once the call is ready; its value is the number sent. Its thread only. */
    private static final class CallWriter<T> implements Sink.Writer<T, Long> {
        private final ServerCallStreamObserver<T> call;
        private final ReadyGate gate;
        private final ServerMeters.Call meters;
        private long sent;

        CallWriter(ServerCallStreamObserver<T> call, ReadyGate gate, ServerMeters.Call meters) {
            this.call = call;
            this.gate = gate;
            this.meters = meters;
        }

        @Override
        public void write(T item) throws InterruptedException {
            gate.awaitReady();
            call.onNext(item);
            sent++;
            meters.sent();
        }

        @Override
        public Long complete() {
            return sent;
        }
    }

    /**
     * Ends the call when the run ends; runs on the run's coordinating thread, after every stage has ended. Cancels
     * the stages' context only once the run is settled: after {@link PipelineHandle#cancel()} has returned (it records
     * the run's ending before it returns), or once the run has ended.
     */
    private static final class CallEnd implements PipelineListener {
        private final ServerCallStreamObserver<?> call;
        private final AtomicReference<PipelineHandle<Long>> handle;
        private final ServerMeters.Call meters;
        private final ServedRunContext stages;
        volatile boolean cancelled;

        CallEnd(
                ServerCallStreamObserver<?> call,
                AtomicReference<PipelineHandle<Long>> handle,
                ServerMeters.Call meters,
                ServedRunContext stages) {
            this.call = call;
            this.handle = handle;
            this.meters = meters;
            this.stages = stages;
        }

        /**
         * The call's cancel handler (gRPC thread), run only for a call cancelled from the client's side: counts it
         * and cancels the run. (The call's context, whose listener also cancels the run, is cancelled at every end
         * of the call, a normal one too.)
         */
        void cancelHandler() {
            meters.cancelled();
            clientCancelled();
        }

        /**
         * Cancel the run, then the stages' context (gRPC thread); never waits. Without a handle yet, {@code serve}
         * does both once it has one: {@code cancelled} is written before the handle is read here, and the handle
         * before {@code cancelled} is read there, so one of the two sees the other.
         */
        void clientCancelled() {
            cancelled = true;
            PipelineHandle<Long> h = handle.get();
            if (h != null) {
                stages.cancelAfter(h);
            }
        }

        @Override
        public void onFinish(PipelineSummary summary) {
            try {
                stages.cancel(); // the run has ended: calls its stages left in flight end now, before the call
            } finally {
                endCall(summary);
            }
        }

        private void endCall(PipelineSummary summary) {
            if (cancelled) {
                log.debug(
                        "pipeline '{}' ended {} after the client cancelled; {} items sent",
                        summary.pipelineName(),
                        summary.outcome(),
                        summary.itemCount());
                return;
            }
            Outcome outcome = summary.outcome();
            if (outcome.isSuccess()) {
                call.onCompleted();
                return;
            }
            Status status = switch (outcome) {
                case TIMED_OUT ->
                    Status.DEADLINE_EXCEEDED.withDescription("the server's pipeline passed the call's deadline");
                case CANCELLED -> Status.CANCELLED.withDescription("the server's pipeline was cancelled");
                default -> statusFor(summary.failure());
            };
            if (status.getCode() == Status.Code.INTERNAL) {
                log.warn(
                        "pipeline '{}' (correlation {}) failed in stage '{}'; closing the call with INTERNAL",
                        summary.pipelineName(),
                        summary.correlationId(),
                        summary.failedStage(),
                        summary.failure());
            }
            call.onError(status.asRuntimeException());
        }
    }
}
