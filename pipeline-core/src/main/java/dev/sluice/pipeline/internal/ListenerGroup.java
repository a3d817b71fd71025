package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.PipelineListener;
import dev.sluice.pipeline.PipelineSnapshot;
import dev.sluice.pipeline.PipelineSummary;
import dev.sluice.pipeline.internal.check.Nanos;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listeners of one run, each with its own progress schedule. Called from the run's coordinating thread, and
 * {@link #progress} from a thread the coordinator starts and does not overlap with any other call (its writes are
 * published to the coordinator before the next call), so a run's callbacks never overlap. A callback that throws
 * (anything, an {@code Error} included) is logged and otherwise ignored.
 */
final class ListenerGroup {
    private static final Logger log = LoggerFactory.getLogger(PipelineListener.class);

    private final List<RunConfig.ListenerRegistration> registrations;
    private final long[] nextProgress;
    private final String pipelineName;

    ListenerGroup(List<RunConfig.ListenerRegistration> registrations, String pipelineName, long startNanos) {
        this.registrations = registrations;
        this.pipelineName = pipelineName;
        this.nextProgress = new long[registrations.size()];
        for (int i = 0; i < nextProgress.length; i++) {
            nextProgress[i] = startNanos + Nanos.saturated(registrations.get(i).progressInterval());
        }
    }

    boolean isEmpty() {
        return registrations.isEmpty();
    }

    void start(PipelineSnapshot snapshot) {
        each("onStart", l -> l.onStart(snapshot));
    }

    /** The {@link System#nanoTime()} of the next progress callback due, or {@link Long#MAX_VALUE}. */
    long nextProgressDue() {
        long next = Long.MAX_VALUE;
        for (long n : nextProgress) {
            next = Math.min(next, n);
        }
        return next;
    }

    /** Calls {@code onProgress} on the listeners that are due at {@code now}, with a snapshot made only if needed. */
    void progress(long now, java.util.function.Supplier<PipelineSnapshot> snapshot) {
        PipelineSnapshot taken = null;
        for (int i = 0; i < nextProgress.length; i++) {
            if (now - nextProgress[i] >= 0) {
                if (taken == null) {
                    taken = snapshot.get();
                }
                RunConfig.ListenerRegistration r = registrations.get(i);
                call("onProgress", r.listener(), taken, PipelineListener::onProgress);
                long interval = Nanos.saturated(r.progressInterval());
                // Catch up without bursts if a callback ran long.
                nextProgress[i] += interval * Math.max(1, (now - nextProgress[i]) / interval + 1);
            }
        }
    }

    void finish(PipelineSummary summary) {
        each("onFinish", l -> l.onFinish(summary));
    }

    void stuck(String stage, StackTraceElement[] where) {
        each("onStuckStage", l -> l.onStuckStage(stage, where));
    }

    private void each(String callback, Consumer<PipelineListener> call) {
        for (RunConfig.ListenerRegistration r : registrations) {
            try {
                call.accept(r.listener());
            } catch (Throwable e) { // an Error too: a listener must never hang or break a run
                log.warn(
                        "pipeline '{}': listener {} threw from {}; the run goes on",
                        pipelineName,
                        r.listener(),
                        callback,
                        e);
            }
        }
    }

    private <A> void call(
            String callback, PipelineListener l, A arg, java.util.function.BiConsumer<PipelineListener, A> c) {
        try {
            c.accept(l, arg);
        } catch (Throwable e) { // an Error too: a listener must never hang or break a run
            log.warn("pipeline '{}': listener {} threw from {}; the run goes on", pipelineName, l, callback, e);
        }
    }
}
