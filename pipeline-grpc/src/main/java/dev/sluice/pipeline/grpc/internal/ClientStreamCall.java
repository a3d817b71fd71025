package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.StageContext;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;

/**
 * One client-streaming call, driven by one writer thread: {@link #send} waits while the call is not ready (so a
 * slow server holds the writer back, and nothing piles up in the transport beyond its ready threshold), then
 * {@link #finish} half-closes and waits for the response. The gRPC callbacks only record the response and the end,
 * and release a writer waiting for readiness; they never block.
 *
 * <p>Thread-safety: {@link #send}, {@link #finish} and {@link #cancel} are called by the writer thread only (cancel
 * may also come from the run's abort, on that same thread). The end is published by a latch.
 */
public final class ClientStreamCall<Req, Resp> {

    private final ReadyGate gate;
    private final ClientCallStreamObserver<Req> requests;
    private final CountDownLatch ended = new CountDownLatch(1);
    private final SentMeter meter;
    private volatile Resp response;
    private volatile Status status; // null until the call ends
    private long sent;

    private ClientStreamCall(ClientCall<Req, Resp> call, SentMeter meter) {
        this.meter = meter;
        Observer observer = new Observer();
        ClientCalls.asyncClientStreamingCall(call, observer);
        this.requests = observer.requests;
        this.gate = observer.gate;
    }

    /**
     * Starts a call of {@code method} on {@code channel}, watched for the correlation ID its server echoes.
     *
     * @param context the stage the call is made from, or null
     */
    public static <Req, Resp> ClientStreamCall<Req, Resp> start(
            Channel channel,
            MethodDescriptor<Req, Resp> method,
            CallOptions options,
            StageContext context,
            SentMeter meter,
            Logger log) {
        ClientCall<Req, Resp> call =
                EchoedCorrelationId.watch(channel.newCall(method, options), method.getFullMethodName(), context, log);
        return new ClientStreamCall<>(call, meter);
    }

    /**
     * Sends one message once the call is ready.
     *
     * @return true if sent; false if the call has ended (see {@link #status()})
     * @throws InterruptedException if the thread is interrupted while waiting for readiness; the call is not
     *     cancelled here
     */
    public boolean send(Req message) throws InterruptedException {
        if (status != null || !gate.awaitReady()) {
            return false;
        }
        requests.onNext(message);
        sent++;
        meter.sent();
        return true;
    }

    /**
     * Half-closes the call and waits for it to end. If interrupted, cancels the call and rethrows.
     *
     * @return the status the call ended with; {@link #response()} holds the response if it is OK
     */
    public Status finish() throws InterruptedException {
        if (status == null) {
            requests.onCompleted();
        }
        return awaitEnd();
    }

    /** Waits for the end of a call that was cancelled or failed, so that its status is known. */
    public Status awaitEnd() throws InterruptedException {
        try {
            ended.await();
        } catch (InterruptedException e) {
            cancel("the writer was interrupted", e);
            throw e;
        }
        return status;
    }

    /** Cancels the call (the server sees CANCELLED); does nothing once it has ended. Never blocks. */
    public void cancel(String why, Throwable cause) {
        if (status == null) {
            requests.cancel(why, cause);
        }
    }

    /** How the call ended, or null while it runs. */
    public Status status() {
        return status;
    }

    /** The response of a call that ended OK. */
    public Resp response() {
        return response;
    }

    /** Messages sent on this call. */
    public long sent() {
        return sent;
    }

    private final class Observer implements ClientResponseObserver<Req, Resp> {
        ClientCallStreamObserver<Req> requests;
        ReadyGate gate;

        @Override
        public void beforeStart(ClientCallStreamObserver<Req> requestStream) {
            requests = requestStream;
            gate = new ReadyGate(requestStream);
            requestStream.setOnReadyHandler(gate::signal);
        }

        @Override
        public void onNext(Resp value) {
            response = value;
        }

        @Override
        public void onError(Throwable t) {
            end(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            end(
                    response == null
                            ? Status.INTERNAL.withDescription("the server completed without a response")
                            : Status.OK);
        }

        private void end(Status s) {
            status = s;
            ended.countDown();
            gate.close();
        }
    }
}
