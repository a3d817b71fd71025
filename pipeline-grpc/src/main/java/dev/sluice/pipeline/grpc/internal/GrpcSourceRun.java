package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.StageContext;
import dev.sluice.pipeline.grpc.GrpcSource;
import dev.sluice.pipeline.grpc.ResilienceOptions;
import dev.sluice.pipeline.internal.check.Require;
import io.grpc.ClientCall;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a {@link GrpcSource}, on the source's stage thread: its calls and their flow control, each call an
 * attempt of a {@link RetryLoop}, which retries or resumes it.
 *
 * <h2>Flow control of one call</h2>
 * {@code beforeStart} disables automatic requests and asks for {@code prefetch} messages. {@code onNext} only
 * appends to a {@link ResponseBuffer}, which can never overflow: at any moment, messages buffered + messages taken
 * but not yet re-requested + demand outstanding = prefetch. The stage thread takes what is buffered, emits it
 * downstream (where it waits while the pipeline is full: that wait is what holds the server back), and after each
 * {@code replenishBatch} items emitted calls {@code request(replenishBatch)}: exactly what it consumed, never
 * "prefetch minus buffered", which would count the same room twice.
 *
 * <h2>Ending a call</h2>
 * All methods of the {@code ClientCall} (start, request, cancel) are called from the stage thread only. If the stage is
 * interrupted (the pipeline cancelled, stopped, or finished early), the call is cancelled (the server sees CANCELLED),
 * every message received until the call has ended is handed over (a graceful stop delivers them; an abort has failed
 * the link, which refuses them), and the interrupt propagates. If the buffer stays empty for the request timeout while
 * demand is outstanding, the call is cancelled as idle and the loop retries or resumes it.
 */
public final class GrpcSourceRun<Req, Resp> {

    private static final Logger log = LoggerFactory.getLogger(GrpcSource.class);
    /** The longest a stopping source waits for its cancelled call to end. */
    private static final long CANCEL_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final StreamSpec<Req, Resp> spec;
    private final String method;
    private final ResilienceOptions options;
    /** The last item delivered downstream, the resume point. Stage thread only. */
    private Resp last;

    public GrpcSourceRun(StreamSpec<Req, Resp> spec) {
        this.spec = spec;
        this.method = spec.method().getFullMethodName();
        this.options = spec.resilience();
    }

    /**
     * Streams every item into {@code emitter}; returns when the stream completed. Holds the shared
     * {@link BatchWaitTimer} from start to end if the source's waits for a batch are long enough to use it.
     */
    public void run(Emitter<Resp> emitter) throws InterruptedException {
        long maxBatchDelayNanos = spec.maxBatchDelay().toNanos();
        BatchWaitTimer timer = BatchWaitTimer.endsWaitsOf(maxBatchDelayNanos) ? BatchWaitTimer.acquire() : null;
        try {
            run(emitter, timer);
        } finally {
            if (timer != null) {
                timer.release();
            }
        }
    }

    private void run(Emitter<Resp> emitter, BatchWaitTimer timer) throws InterruptedException {
        StageContext context = emitter.context();
        GrpcMeters meters = GrpcMeters.of(context, method);
        context.attribute(GrpcSource.ATTRIBUTE_METHOD, method);
        RetryLoop loop =
                new RetryLoop(spec.method(), options, spec.breaker(), spec.resume() != null, () -> meters, log);
        try {
            loop.run(attempt -> {
                context.attribute(GrpcSource.ATTRIBUTE_ATTEMPTS, attempt.number()); // live, for snapshots
                Req request = spec.request();
                if (attempt.isResume()) {
                    request = Require.nonNull(
                            spec.resume().nextRequest(spec.request(), last), "the request the ResumeStrategy returned");
                    context.attribute(GrpcSource.ATTRIBUTE_RESUMES, loop.resumes());
                }
                return attempt(request, attempt, emitter, meters, context, timer);
            });
        } finally {
            context.attribute(GrpcSource.ATTRIBUTE_STATUS, loop.lastCode().name());
            context.attribute(GrpcSource.ATTRIBUTE_ATTEMPTS, loop.attempts());
            context.attribute(GrpcSource.ATTRIBUTE_RESUMES, loop.resumes());
        }
    }

    /** One call: returns how it ended; throws InterruptedException after cancelling it if the stage is interrupted. */
    private RetryLoop.Outcome<Void> attempt(
            Req request,
            RetryLoop.Attempt attempt,
            Emitter<Resp> emitter,
            GrpcMeters meters,
            StageContext context,
            BatchWaitTimer timer)
            throws InterruptedException {
        int prefetch = spec.prefetch();
        int batch = spec.replenishBatch();
        long idleNanos = options == null ? 0L : options.requestTimeout().toNanos();
        // While the stream flows, the stage thread is woken for a replenish batch (or as much of one as the call
        // can deliver while it waits: prefetch minus what it has taken and not yet re-requested, < batch).
        int wakeThreshold = Math.max(1, Math.min(batch, prefetch - batch + 1));
        ResponseBuffer<Resp> buffer = new ResponseBuffer<>(
                prefetch, wakeThreshold, spec.maxBatchDelay().toNanos(), timer);
        ClientCall<Req, Resp> call = EchoedCorrelationId.watch(
                spec.channel().newCall(spec.method(), attempt.callOptions(spec.callOptions())), method, context, log);
        ClientCalls.asyncServerStreamingCall(call, request, new BufferingObserver<>(buffer, prefetch));
        meters.requested(prefetch);
        buffer.requested();
        List<Resp> group = new ArrayList<>(Math.min(prefetch, 1024));
        int consumedSinceRequest = 0;
        long delivered = 0;
        boolean ended = false;
        try {
            for (; ; ) {
                int n;
                try {
                    n = buffer.take(group, prefetch, idleNanos);
                } catch (InterruptedException stop) {
                    ended = true;
                    Thread.currentThread().interrupt();
                    throw handOverTheRest(call, buffer, emitter, group, meters);
                }
                if (n == ResponseBuffer.COMPLETED) {
                    ended = true;
                    return new RetryLoop.Success<>(null);
                }
                if (n == ResponseBuffer.FAILED) {
                    ended = true;
                    call.cancel("the call failed", null); // no effect if the server ended it; ends it if we did
                    return RetryLoop.failure(buffer.failure(), delivered);
                }
                if (n == ResponseBuffer.IDLE) {
                    ended = true;
                    Status idle = Status.UNAVAILABLE.withDescription("stream idle: no message for "
                            + options.requestTimeout().toMillis() + " ms while messages were requested"
                            + " (the request timeout)");
                    buffer.abandon();
                    call.cancel("stream idle timeout", idle.asRuntimeException());
                    if (attempt.neverConnected()) {
                        return RetryLoop.noConnection(options.requestTimeout(), "the request timeout");
                    }
                    return new RetryLoop.Failure<>(idle, RetryLoop.Kind.IDLE, delivered);
                }
                meters.received(n);
                attempt.progressed(); // settled as a success for the breaker
                // Received from the server: handed over whole, even during a graceful stop (they are ours now).
                emitter.handOver(group);
                delivered += n;
                last = group.get(n - 1);
                group.clear();
                if (Thread.currentThread().isInterrupted()) {
                    // A graceful stop (an abort or an early finish would have failed the link instead).
                    ended = true;
                    throw handOverTheRest(call, buffer, emitter, group, meters);
                }
                consumedSinceRequest += n;
                while (consumedSinceRequest >= batch) {
                    call.request(batch); // exactly what went downstream, a batch at a time
                    meters.requested(batch);
                    buffer.requested();
                    consumedSinceRequest -= batch;
                }
            }
        } finally {
            if (!ended) {
                buffer.abandon();
                call.cancel("the pipeline no longer takes items (cancelled, stopped or finished early)", null);
            }
        }
    }

    /**
     * The stage thread was interrupted: asks for nothing more, cancels the call, and hands over every message
     * received until the call ended, then returns the exception to throw. A graceful stop delivers them all; an
     * abort has failed the link, so the hand-over ends at once with its own {@code InterruptedException}.
     */
    private InterruptedException handOverTheRest(
            ClientCall<?, Resp> call,
            ResponseBuffer<Resp> buffer,
            Emitter<Resp> emitter,
            List<Resp> group,
            GrpcMeters meters)
            throws InterruptedException {
        call.cancel("the pipeline is stopping", null);
        // Netty may still deliver messages it decoded before it saw the cancel: they were received, so they are
        // kept until the call has ended. A cancelled call ends promptly; the bound only guards against a transport
        // that never says so.
        if (!buffer.awaitEndAfterCancel(CANCEL_GRACE_NANOS)) {
            log.warn(
                    "gRPC {} did not end within {} ms of its cancellation; messages it delivers later are dropped",
                    method,
                    TimeUnit.NANOSECONDS.toMillis(CANCEL_GRACE_NANOS));
        }
        buffer.drainTo(group);
        if (!group.isEmpty()) {
            meters.received(group.size());
            emitter.handOver(group);
        }
        return new InterruptedException("the pipeline is stopping");
    }

    /** The call's callbacks: append and signal, never wait (they may run on a transport thread). */
    private static final class BufferingObserver<Req, Resp> implements ClientResponseObserver<Req, Resp> {
        private final ResponseBuffer<Resp> buffer;
        private final int prefetch;

        BufferingObserver(ResponseBuffer<Resp> buffer, int prefetch) {
            this.buffer = buffer;
            this.prefetch = prefetch;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<Req> requestStream) {
            requestStream.disableAutoRequestWithInitial(prefetch); // legal only here
        }

        @Override
        public void onNext(Resp value) {
            buffer.put(value);
        }

        @Override
        public void onError(Throwable t) {
            buffer.fail(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            buffer.complete();
        }
    }
}
