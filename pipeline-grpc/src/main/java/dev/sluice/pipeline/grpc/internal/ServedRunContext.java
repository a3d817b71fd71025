package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.RunnablePipeline;
import io.grpc.Context;
import io.grpc.Deadline;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The gRPC {@link Context} the threads of a run serving a call run in: a fork of the call's context, so it carries the
 * call's values (its correlation ID, whatever interceptors put there) and its deadline, but not its cancellation.
 * Whoever serves the call cancels it only once the run's outcome is settled: through {@link #cancelAfter} when the
 * call is cancelled, or through {@link #cancel()} once the run has ended. Apart from that, only its deadline cancels it,
 * at the instant the call's own would (the run's deadline is the same instant, so a stage's call may then fail
 * first).
 *
 * <p>Thread-safe. {@link #cancel()} may be called any number of times, from any thread; the first call cancels the
 * context and gives back the deadline timer it held.
 */
public final class ServedRunContext {

    /*
     * Why not the call's own context: gRPC marks a call's context cancelled before it tells the context's listeners,
     * so a listener that cancels the run always comes a moment late. A stage that starts or finishes a call in that
     * moment sees its call cancelled (gRPC fails a call started in a cancelled context at once, and RetryLoop retries
     * nothing once its context is cancelled) and fails the run with CANCELLED before the listener has cancelled it:
     * the run would end FAILED for what is the client's cancellation. In this context a stage's calls are cancelled
     * only once the run's outcome is settled, so their failures are echoes of that end: PipelineHandle.cancel()
     * records the run's ending (a compare-and-set that a stage's failure would otherwise win) before it returns, or
     * finds the run already completed; a stage that fails after that does not change the outcome.
     */

    private final Context call;
    private final Context.CancellableContext context;
    /** Held while the context may still have its deadline scheduled; null if the call has no deadline. */
    private final DeadlineTimer timer;

    private final AtomicBoolean cancelled = new AtomicBoolean();

    private ServedRunContext(Context call, Context.CancellableContext context, DeadlineTimer timer) {
        this.call = call;
        this.context = context;
        this.timer = timer;
    }

    /**
     * A context for the run that serves the call whose context is {@code call}: its values and deadline, not its
     * cancellation. Call {@link #cancel()} once the run is settled, and at the latest when it has ended.
     */
    public static ServedRunContext of(Context call) {
        return of(call, DeadlineTimer.PROCESS);
    }

    /** {@link #of(Context)} with its deadline on a timer of {@code timers}. */
    static ServedRunContext of(Context call, DeadlineTimer.Shared timers) {
        Deadline deadline = call.getDeadline();
        if (deadline == null) {
            return new ServedRunContext(call, call.fork().withCancellation(), null);
        }
        DeadlineTimer timer = timers.acquire();
        try {
            return new ServedRunContext(call, call.fork().withDeadline(deadline, timer.scheduler()), timer);
        } catch (RuntimeException | Error e) {
            timer.release();
            throw e;
        }
    }

    /**
     * Starts {@code runnable} with this context current on the calling thread (a run that carries the gRPC context
     * captures it for its threads), and with the time left before the call's deadline, if it has one, as the run's
     * own; then restores the calling thread's context. Returns at once, as {@link RunnablePipeline#start()} does.
     */
    public <R> PipelineHandle<R> start(RunnablePipeline<R> runnable) {
        Deadline deadline = call.getDeadline();
        Context previous = context.attach();
        try {
            return deadline == null
                    ? runnable.start()
                    : runnable.start(Duration.ofNanos(Math.max(1, deadline.timeRemaining(TimeUnit.NANOSECONDS))));
        } finally {
            context.detach(previous);
        }
    }

    /**
     * The call was cancelled: cancels {@code run}, then this context. {@link PipelineHandle#cancel()} records the
     * run's ending before it returns, so a stage's call that fails because this context is cancelled cannot change
     * the run's outcome. Never waits.
     */
    public void cancelAfter(PipelineHandle<?> run) {
        run.cancel();
        cancel();
    }

    /**
     * Cancels this context, which cancels every call made in it, with the call's cancellation cause if the call was
     * cancelled (so a passed deadline reads as one); then gives back the deadline timer. Only the first call has an
     * effect. Never blocks beyond the context's own listeners.
     */
    public void cancel() {
        if (!cancelled.compareAndSet(false, true)) {
            return;
        }
        try {
            context.cancel(call.isCancelled() ? call.cancellationCause() : null);
        } finally {
            if (timer != null) {
                timer.release();
            }
        }
    }

    /** Whether this context still holds a deadline timer (it has a deadline and has not been cancelled), for tests. */
    boolean holdsTimer() {
        return timer != null && !cancelled.get();
    }

    /** The context itself, for tests. */
    Context context() {
        return context;
    }
}
