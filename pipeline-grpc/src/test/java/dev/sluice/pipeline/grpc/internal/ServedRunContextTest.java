package dev.sluice.pipeline.grpc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.grpc.GrpcContextAccessor;
import io.grpc.Context;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The context of a served run: the call's values and deadline without its cancellation, cancelled by its own
 * {@code cancel()} or its deadline, holding the shared deadline timer until then. Each test assumes that no run outside
 * it holds the timer (test classes of this module run one at a time, and every served run has ended when its test
 * returns).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServedRunContextTest {

    private static final Duration PROMPTLY = Duration.ofSeconds(10);
    private static final Context.Key<String> TENANT = Context.key("tenant");
    /** Schedules the deadlines of the calls' own contexts, as a gRPC server's timer does. */
    private static final ScheduledExecutorService callDeadlines = Executors.newSingleThreadScheduledExecutor();

    @AfterAll
    static void stopScheduler() {
        callDeadlines.shutdownNow();
    }

    @Test
    void carriesTheCallsValuesAndDeadlineButNotItsCancellation() {
        // given a call's context with a value and a deadline
        Context.CancellableContext call =
                Context.current().withValue(TENANT, "t1").withDeadlineAfter(1, TimeUnit.MINUTES, callDeadlines);
        ServedRunContext served = ServedRunContext.of(call);
        try {
            // then the run's context has both
            assertThat(TENANT.get(served.context())).isEqualTo("t1");
            assertThat(served.context().getDeadline()).isEqualByComparingTo(call.getDeadline());

            // when the call is cancelled
            CancellationException cause = new CancellationException("the client cancelled");
            call.cancel(cause);

            // then the run's context is not, until it is cancelled itself, with the call's cause
            assertThat(served.context().isCancelled()).isFalse();
            served.cancel();
            assertThat(served.context().isCancelled()).isTrue();
            assertThat(served.context().cancellationCause()).isSameAs(cause);
        } finally {
            served.cancel();
        }
    }

    @Test
    void aCancelAfterTheCallEndedNormallyHasNoCause() {
        // given a call without a deadline, not cancelled
        Context.CancellableContext call = Context.current().withCancellation();
        ServedRunContext served = ServedRunContext.of(call);
        assertThat(served.context().getDeadline()).isNull();

        // when the run's context is cancelled
        served.cancel();

        // then
        assertThat(served.context().isCancelled()).isTrue();
        assertThat(served.context().cancellationCause()).isNull();
        call.cancel(null);
    }

    @Test
    void isCancelledWhenTheCallsDeadlinePasses() {
        // given a call whose deadline is 100 ms away
        Context.CancellableContext call =
                Context.current().withDeadlineAfter(100, TimeUnit.MILLISECONDS, callDeadlines);
        ServedRunContext served = ServedRunContext.of(call);
        try {
            // then the run's context is cancelled by the deadline, as a deadline cancels a context
            await().atMost(PROMPTLY).until(() -> served.context().isCancelled());
            assertThat(served.context().cancellationCause()).isInstanceOf(TimeoutException.class);
        } finally {
            served.cancel();
            call.cancel(null);
        }
    }

    @Test
    void holdsADeadlineTimerFromItsCreationToItsFirstCancel() {
        // given a timer of the test's own, held by the test too
        DeadlineTimer.Shared timers = new DeadlineTimer.Shared(Duration.ofMinutes(10));
        DeadlineTimer timer = timers.acquire();

        // when a run's context is made for a call with a deadline
        Context.CancellableContext call = Context.current().withDeadlineAfter(1, TimeUnit.MINUTES, callDeadlines);
        ServedRunContext served = ServedRunContext.of(call, timers);

        // then it holds the timer, and its first cancel gives it back; a second changes nothing
        assertThat(served.holdsTimer()).isTrue();
        assertThat(timer.users()).isEqualTo(2);
        served.cancel();
        assertThat(served.holdsTimer()).isFalse();
        assertThat(timer.users()).isEqualTo(1);
        served.cancel();
        assertThat(timer.users()).isEqualTo(1);
        timer.release();
        call.cancel(null);
    }

    @Test
    void aCallWithoutADeadlineNeedsNoTimer() {
        ServedRunContext served = ServedRunContext.of(Context.current().withCancellation());
        assertThat(served.holdsTimer()).isFalse();
        served.cancel();
    }

    @Test
    void isTheContextOfTheRunsThreadsAndOfTheStartingThreadOnlyWhileTheRunStarts() throws Exception {
        // given a served run's context
        Context before = Context.current();
        ServedRunContext served = ServedRunContext.of(before.withValue(TENANT, "t2"));

        // when a run that carries the gRPC context starts in it, its stage noting its gRPC context
        PipelineHandle<List<Context>> run = served.start(Pipeline.from(Source.of(1))
                .propagate(new GrpcContextAccessor())
                .map(n -> Context.current())
                .to(Sink.toList()));
        Context inStage = run.await(Duration.ofSeconds(10)).value().get(0);

        // then the stage ran in it (gRPC attaches a cancellable context's view of itself, cancelled with it), and the
        // starting thread's context is as it was
        assertThat(TENANT.get(inStage)).isEqualTo("t2");
        assertThat(Context.current()).isSameAs(before);
        assertThat(inStage.isCancelled()).isFalse();
        served.cancel();
        assertThat(inStage.isCancelled()).isTrue();
    }
}
