package dev.sluice.pipeline.internal;

import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import io.micrometer.context.ThreadLocalAccessor;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The thread context of a thread that starts work on other threads, captured on it and restored on each of them:
 * every thread a pipeline run starts (its coordinator, its stage threads, {@code mapConcurrent}'s workers) and every
 * {@code Scope} fork begins with the context of the thread that called {@code run()}, {@code start()} or
 * {@code fork()}.
 *
 * <p>What travels:
 * <ul>
 *   <li>the SLF4J MDC, copied whole (the run's own keys are put on top of it by the run);</li>
 *   <li>every {@link ThreadLocalAccessor} in context-propagation's global {@code ContextRegistry}, through one
 *       {@link ContextSnapshot}: Micrometer's current {@code Observation}, OpenTelemetry's or Reactor's context when
 *       their accessors are registered, a user's own;</li>
 *   <li>the accessors a pipeline names itself ({@code Pipeline.propagate}), whether or not the rest is captured:
 *       a served pipeline names gRPC's {@code Context} this way.</li>
 * </ul>
 *
 * <p>Invariants: capturing never changes the capturing thread. {@link #restore()} is called once per task, on the
 * thread that runs it, before the task; closing what it returns, on the same thread, puts every value back as it
 * was before {@code restore()} (on a new thread: nothing), so no value outlives the task on its thread. An accessor
 * that throws while a context is captured fails the capture (the caller sees it); one that throws while it is
 * restored is logged and skipped, since a thread that has started has no caller to tell.
 *
 * <p>Immutable; one captured context may be restored on any number of threads at once.
 */
public final class CallerContext {

    private static final Logger log = LoggerFactory.getLogger(CallerContext.class);

    /** Over the global registry, read at each capture: accessors registered later are seen. */
    private static final ContextSnapshotFactory SNAPSHOTS =
            ContextSnapshotFactory.builder().build();

    /** Nothing captured: restoring it changes nothing. */
    public static final CallerContext NONE = new CallerContext(null, null, List.of(), new Object[0]);

    private final Map<String, String> mdc;
    private final ContextSnapshot snapshot;
    private final List<ThreadLocalAccessor<?>> named;
    private final Object[] namedValues;

    private CallerContext(
            Map<String, String> mdc, ContextSnapshot snapshot, List<ThreadLocalAccessor<?>> named, Object[] values) {
        this.mdc = mdc;
        this.snapshot = snapshot;
        this.named = named;
        this.namedValues = values;
    }

    /** The calling thread's whole context: its MDC and every accessor of the global registry. */
    public static CallerContext capture() {
        return capture(true, List.of());
    }

    /**
     * The calling thread's context.
     *
     * @param callerContext whether to capture the MDC and the global registry's accessors
     * @param named accessors to capture in any case
     */
    public static CallerContext capture(boolean callerContext, List<ThreadLocalAccessor<?>> named) {
        if (!callerContext && named.isEmpty()) {
            return NONE;
        }
        Object[] values = new Object[named.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = named.get(i).getValue();
        }
        if (!callerContext) {
            return new CallerContext(null, null, named, values);
        }
        return new CallerContext(MDC.getCopyOfContextMap(), SNAPSHOTS.captureAll(), named, values);
    }

    /** Whether restoring this context changes nothing. */
    public boolean isEmpty() {
        return this == NONE;
    }

    /**
     * Puts this context on the calling thread; closing the result, on the same thread, puts back what was there.
     * Never throws.
     */
    public Restored restore() {
        if (this == NONE) {
            return Restored.NOTHING;
        }
        Map<String, String> previousMdc = null;
        ContextSnapshot.Scope snapshotScope = null;
        if (snapshot != null) {
            previousMdc = MDC.getCopyOfContextMap();
            setMdc(mdc);
            try {
                snapshotScope = snapshot.setThreadLocals();
            } catch (Throwable e) { // an Error too: a started thread has no caller to tell
                log.warn("the caller's thread-local context could not be restored on thread '{}'", threadName(), e);
            }
        }
        Object[] previous = new Object[named.size()];
        boolean[] set = new boolean[named.size()];
        for (int i = 0; i < previous.length; i++) {
            Object value = namedValues[i];
            if (value == null) {
                continue;
            }
            try {
                previous[i] = named.get(i).getValue();
                setValue(named.get(i), value);
                set[i] = true;
            } catch (Throwable e) { // an Error too: a started thread has no caller to tell
                log.warn(
                        "the thread-local context '{}' could not be restored on thread '{}'",
                        named.get(i).key(),
                        threadName(),
                        e);
            }
        }
        return new Undo(snapshot != null, previousMdc, snapshotScope, named, previous, set);
    }

    /** The undoing of a {@link #restore()}. */
    public sealed interface Restored extends AutoCloseable permits Undo, Nothing {
        Restored NOTHING = new Nothing();

        /** Puts back what the thread had before the restore. Never throws. */
        @Override
        void close();
    }

    private record Nothing() implements Restored {
        @Override
        public void close() {}
    }

    private static final class Undo implements Restored {
        private final boolean mdcSet;
        private final Map<String, String> previousMdc;
        private final ContextSnapshot.Scope snapshotScope;
        private final List<ThreadLocalAccessor<?>> named;
        private final Object[] previous;
        private final boolean[] set;

        Undo(
                boolean mdcSet,
                Map<String, String> previousMdc,
                ContextSnapshot.Scope snapshotScope,
                List<ThreadLocalAccessor<?>> named,
                Object[] previous,
                boolean[] set) {
            this.mdcSet = mdcSet;
            this.previousMdc = previousMdc;
            this.snapshotScope = snapshotScope;
            this.named = named;
            this.previous = previous;
            this.set = set;
        }

        @Override
        public void close() {
            // In reverse order of restore(): the named accessors, then the snapshot, then the MDC.
            for (int i = named.size() - 1; i >= 0; i--) {
                if (!set[i]) {
                    continue;
                }
                try {
                    restoreValue(named.get(i), previous[i]);
                } catch (Throwable e) { // an Error too: a started thread has no caller to tell
                    log.warn(
                            "the thread-local context '{}' could not be reset",
                            named.get(i).key(),
                            e);
                }
            }
            if (snapshotScope != null) {
                try {
                    snapshotScope.close();
                } catch (Throwable e) { // an Error too: a started thread has no caller to tell
                    log.warn("the caller's thread-local context could not be reset on thread '{}'", threadName(), e);
                }
            }
            if (mdcSet) {
                setMdc(previousMdc);
            }
        }
    }

    private static void setMdc(Map<String, String> map) {
        if (map == null || map.isEmpty()) {
            MDC.clear();
        } else {
            MDC.setContextMap(map);
        }
    }

    @SuppressWarnings("unchecked")
    private static <V> void setValue(ThreadLocalAccessor<V> accessor, Object value) {
        accessor.setValue((V) value);
    }

    @SuppressWarnings("unchecked")
    private static <V> void restoreValue(ThreadLocalAccessor<V> accessor, Object previous) {
        if (previous == null) {
            accessor.restore();
        } else {
            accessor.restore((V) previous);
        }
    }

    private static String threadName() {
        return Thread.currentThread().getName();
    }
}
