package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.Source;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The server's side of a client stream: the request observer gRPC calls, and a {@link Source} that a pipeline reads
 * the requests from, with manual flow control. The source requests {@code prefetch} messages when its run starts,
 * then, each time it has passed {@code prefetch / 2} (at least 1) downstream, exactly that many more; the observer
 * only buffers (at most {@code prefetch}) and never blocks a gRPC thread.
 *
 * <p>Built in the service method (it turns off the call's automatic requests, which is legal only there). The
 * source can run once: the call's stream cannot be read twice. When the client half-closes, the source ends; when the
 * call is cancelled or fails, the source throws the call's status as a {@link io.grpc.StatusRuntimeException}, after
 * the messages that came before.
 */
public final class IncomingStream<Req> {

    private final ServerCallStreamObserver<?> call;
    private final int prefetch;
    private final int batch;
    private final InboundBuffer<Req> buffer;
    private final AtomicBoolean run = new AtomicBoolean();
    private final ServerMeters.Call meters;

    /** Turns off the call's automatic requests: call it from the service method. */
    public IncomingStream(ServerCallStreamObserver<?> call, int prefetch, ServerMeters.Call meters) {
        this.call = call;
        this.meters = meters;
        this.prefetch = prefetch;
        this.batch = Math.max(1, prefetch / 2);
        this.buffer = new InboundBuffer<>(prefetch);
        call.disableAutoRequest();
    }

    /** What the service method returns to gRPC: it buffers the client's messages and never blocks. */
    public StreamObserver<Req> observer() {
        return new StreamObserver<>() {
            @Override
            public void onNext(Req value) {
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
        };
    }

    /** The client's messages as a source that can run once. */
    public Source<Req> source() {
        return this::produce;
    }

    private void produce(Emitter<Req> out) throws InterruptedException {
        if (!run.compareAndSet(false, true)) {
            throw new IllegalStateException(
                    "the source of a client stream can run once: the call's messages cannot" + " be read twice");
        }
        meters.started(out.context());
        call.request(prefetch);
        int sinceRequest = 0;
        for (Req message; (message = buffer.take()) != null; ) {
            meters.received();
            out.emit(message);
            if (++sinceRequest == batch) {
                call.request(batch);
                sinceRequest = 0;
            }
        }
        Status failure = buffer.failure();
        if (failure != null) {
            throw failure.asRuntimeException();
        }
    }
}
