package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.RunnablePipeline;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the pipeline that serves a client-streaming call and answers the call with the run's value. The cancel handler
 * (set here, so from the service method) cancels the run; one virtual thread waits for the run's end and closes the
 * call: the value and OK, or the failure's status. After a client cancellation the call is not answered.
 *
 * <p>The run is started in a {@link ServedRunContext}, so a pipeline that carries the gRPC context (it names
 * {@code GrpcContextAccessor}, or the application registered it) runs its stages in that context, not the call's: it
 * is cancelled after the run has been cancelled by the cancel handler, and once the run has ended, before the call
 * is answered.
 */
public final class ClientStreamAnswer {

    private static final Logger log = LoggerFactory.getLogger("dev.sluice.pipeline.grpc.ServerStreams");

    private ClientStreamAnswer() {}

    /** Sets the call's cancel handler, starts the run, and returns at once. Call it from the service method. */
    public static <Resp> void start(
            ServerCallStreamObserver<Resp> call, RunnablePipeline<Resp> runnable, ServerMeters.Call meters) {
        ServedRunContext stages = ServedRunContext.of(Context.current());
        AtomicReference<PipelineHandle<Resp>> handle = new AtomicReference<>();
        Cancel cancel = new Cancel(handle, meters, stages);
        PipelineHandle<Resp> started;
        try {
            call.setOnCancelHandler(cancel::run);
            started = stages.start(runnable);
        } catch (RuntimeException | Error e) {
            stages.cancel(); // no run was started: there is nothing to settle first
            throw e;
        }
        handle.set(started);
        if (cancel.cancelled) {
            stages.cancelAfter(started); // the client cancelled before the handle was there
        }
        Thread.ofVirtual().name("grpc-client-stream-answer").start(() -> {
            try {
                answer(call, started, stages, cancel, meters);
            } finally {
                stages.cancel(); // no effect after answer's own; there if answer throws
            }
        });
    }

    private static <Resp> void answer(
            ServerCallStreamObserver<Resp> call,
            PipelineHandle<Resp> run,
            ServedRunContext stages,
            Cancel cancel,
            ServerMeters.Call meters) {
        Status status;
        Resp value = null;
        try {
            PipelineResult<Resp> result = run.await();
            value = result.value();
            status = value == null
                    ? Status.INTERNAL.withDescription("the server's pipeline completed without a response value")
                    : Status.OK;
        } catch (PipelineFailedException e) {
            status = StatusMapping.toStatus(e);
            if (status.getCode() == Status.Code.INTERNAL) {
                log.warn(
                        "pipeline '{}' serving a client stream failed; closing the call with INTERNAL",
                        e.summary().pipelineName(),
                        e);
            }
        } catch (PipelineCancelledException e) {
            status = e.summary().outcome() == dev.sluice.pipeline.Outcome.TIMED_OUT
                    ? Status.DEADLINE_EXCEEDED.withDescription("the server's pipeline passed the call's deadline")
                    : Status.CANCELLED.withDescription("the server's pipeline was cancelled");
        } catch (InterruptedException e) {
            run.cancel();
            status = Status.CANCELLED.withDescription("the server is shutting down");
        }
        // The run has ended (or, if this thread was interrupted, has been cancelled): calls its stages left in flight
        // end now, before the call is answered.
        stages.cancel();
        if (cancel.cancelled) {
            return; // the client is gone: nobody to answer
        }
        try {
            if (status.isOk()) {
                call.onNext(value);
                meters.sent();
                call.onCompleted();
            } else {
                call.onError(status.asRuntimeException());
            }
        } catch (IllegalStateException | io.grpc.StatusRuntimeException callAlreadyClosed) {
            log.debug("the client-streaming call ended before its answer: {}", callAlreadyClosed.toString());
        }
    }

    /**
     * The cancel handler (gRPC thread): cancel the run, then the stages' context (only once {@code cancel()} has
     * returned, having recorded the run's ending); never waits. Without a handle yet, {@code start} does both once it
     * has one.
     */
    private static final class Cancel implements Runnable {
        private final AtomicReference<? extends PipelineHandle<?>> handle;
        private final ServerMeters.Call meters;
        private final ServedRunContext stages;
        volatile boolean cancelled;

        Cancel(AtomicReference<? extends PipelineHandle<?>> handle, ServerMeters.Call meters, ServedRunContext stages) {
            this.handle = handle;
            this.meters = meters;
            this.stages = stages;
        }

        @Override
        public void run() {
            cancelled = true;
            meters.cancelled();
            PipelineHandle<?> h = handle.get();
            if (h != null) {
                stages.cancelAfter(h);
            }
        }
    }
}
