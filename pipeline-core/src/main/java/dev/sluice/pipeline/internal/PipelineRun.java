package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Outcome;
import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.PipelineSnapshot;
import dev.sluice.pipeline.PipelineSummary;
import dev.sluice.pipeline.Scope;
import dev.sluice.pipeline.StageContext;
import dev.sluice.pipeline.StageStats;
import dev.sluice.pipeline.internal.check.Nanos;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One run of a pipeline: its links, stage threads, listeners and meters, and the coordinating thread that
 * starts them, watches the deadline, calls listeners (onProgress on a thread of its own, never overlapping another
 * callback), and, once every stage thread has ended, decides the outcome.
 *
 * <p>The coordinator is a thread of the run like the stages: it carries the run's correlation ID and pipeline
 * name in its MDC (under the keys stage threads use, without a stage), so that listeners log with them, and clears
 * them when it ends. Whoever waits for the run ({@link #awaitEnd}) waits for the coordinator thread to terminate,
 * so no thread of the run is alive once the wait returns. Every thread of the run, coordinator included, starts with
 * the context of the thread that started the run ({@link CallerContext}, unless the pipeline turned it off) and
 * ends with it cleared; the run's MDC keys go on top of the caller's.
 *
 * <h2>How a run ends</h2>
 * <ul>
 *   <li><b>Completion</b> flows downstream: the source returns, closes its output; each stage drains its input,
 *       closes its output; the sink drains and returns its value.</li>
 *   <li><b>Abort</b> (a stage failed, {@link #cancel()}, the deadline, a stop whose grace ran out): the first
 *       cause is recorded; every link (and every channel inside a stage) is failed with it and every stage thread
 *       is interrupted through the {@link Scope}. Whatever the other stage threads then throw is an echo of the
 *       abort and is ignored.</li>
 *   <li><b>Finishing early</b> (a {@code take} reached its limit, a subscriber cancelled): the stages before it
 *       are marked finished, their links failed and their threads interrupted; they end quietly, and the rest of
 *       the run completes normally.</li>
 *   <li><b>Graceful stop</b>: the source thread is interrupted and the source's output closed however it ended;
 *       the rest drains as on completion, or is aborted when the grace period runs out.</li>
 * </ul>
 */
public final class PipelineRun<R> {

    private static final Logger log = LoggerFactory.getLogger(PipelineRun.class);

    private final RunConfig config;
    private final String correlationId;
    private final UUID runId = UUID.randomUUID();
    private final Instant startedAt = Instant.now();
    private final long startNanos = System.nanoTime();
    private final long deadlineNanos;
    private final boolean hasDeadline;
    private final Map<String, Object> attributes = new ConcurrentHashMap<>();
    private final RunningStage[] stages;
    private final List<Link<Object>> links;
    private final ListenerGroup listeners;
    private final Scope scope;
    private final AtomicReference<Ending> ending = new AtomicReference<>();
    private final AtomicInteger liveThreads = new AtomicInteger();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** The coordinating thread; its termination is the run's end (see {@link #awaitEnd}). */
    private final Thread coordinator;
    /** The context of the thread that started the run, restored on each of the run's threads. */
    private final CallerContext callerContext;
    /** The run's Observation, or none without an observation registry. */
    private final RunObservation observation;
    /** The run's JFR event, committed when it ends if a recording takes it. */
    private final PipelineRunEvent runEvent = PipelineRunEvent.started();

    private boolean poked; // guarded by lock
    /**
     * The last thread started to call the listeners' {@code onProgress}, until it is joined; coordinator only.
     * Progress is reported off the coordinator so that a slow callback delays the next callback and the run's end,
     * never the deadline or a stop's grace, which the coordinator enforces meanwhile.
     */
    private Thread progressThread;
    /** The progress thread, as it records itself when it starts: a listener there may not await the run either. */
    private volatile Thread progressCaller;
    /** Set by the progress thread as it ends (then it pokes the coordinator). */
    private volatile boolean progressEnded;

    private volatile boolean stopping;
    /** Read as the sink completed: whether a stop came first (the outcome is then STOPPED, else COMPLETED). */
    private volatile boolean stoppedBeforeSinkCompleted;
    /** When the run was first aborted (or, after its sink completed, its stragglers interrupted), or 0. */
    private volatile long abortedNanos;
    /** When stages were first told to end early (a take, a cancelled subscriber), or 0. */
    private volatile long finishedEarlyNanos;
    /** The sink returned its value: the run has completed, and a later abort only interrupts stragglers. */
    private volatile boolean sinkCompleted;

    private volatile long stopDeadlineNanos;
    private volatile long endNanos;
    private volatile Object sinkValue;
    private volatile PipelineSummary summary;
    private SinkLoop sinkLoop;
    private SourceLoop sourceLoop;
    private PipelineMeters meters;
    /** This run as its stage threads see it. */
    private final OwningRun asOwner = new AsOwner();

    private PipelineRun(List<StageDeclaration> specs, RunConfig config, Duration timeout) {
        this.config = config;
        this.callerContext = config.captureContext();
        this.correlationId = config.correlationId() != null
                ? config.correlationId()
                : UUID.randomUUID().toString();
        this.observation = RunObservation.create(config.observationRegistry(), config.pipelineName(), correlationId);
        this.hasDeadline = timeout != null;
        this.deadlineNanos = timeout == null ? 0L : startNanos + Nanos.saturated(timeout);
        int n = specs.size();
        this.links = new ArrayList<>(n - 1);
        for (int i = 0; i < n - 1; i++) {
            LinkSpec link = specs.get(i).output();
            ChannelShape shape = ChannelShape.of(
                    specs.get(i).operator().outputThreads(),
                    specs.get(i + 1).operator().inputThreads());
            links.add(Link.create(link.capacity(), link.overflow(), Tracked.ON_DROP, shape));
        }
        this.stages = new RunningStage[n];
        for (int i = 0; i < n; i++) {
            StageDeclaration spec = specs.get(i);
            RunningStageContext context = new RunningStageContext(
                    config.pipelineName(),
                    spec.name(),
                    correlationId,
                    attributes,
                    config.meterRegistry(),
                    asOwner::isAborting);
            boolean batchedInput = i > 0 && specs.get(i - 1).operator() instanceof Operator.Batch;
            stages[i] = new RunningStage(
                    i,
                    spec,
                    asOwner,
                    i == 0 ? null : links.get(i - 1),
                    i == n - 1 ? null : links.get(i),
                    context,
                    batchedInput);
        }
        this.listeners = new ListenerGroup(config.listeners(), config.pipelineName(), startNanos);
        this.scope = Scope.builder()
                .name(config.pipelineName() + "#" + correlationId.substring(0, Math.min(8, correlationId.length())))
                .stragglerReportInterval(config.watchdogInterval())
                .onStraggler(this::reportStuck)
                .propagateContext(false) // each fork restores the caller's context (runStageThread)
                .threadFactory(runThreads(config).factory())
                .open();
        this.coordinator =
                runThreads(config).name(scope.name() + "/coordinator").unstarted(this::coordinate);
    }

    /**
     * The builder of every thread of a run. They inherit the caller's {@code InheritableThreadLocal} values only when
     * its context propagates: with propagation off a run carries nothing of its caller's but what it names.
     */
    private static Thread.Builder.OfVirtual runThreads(RunConfig config) {
        return Thread.ofVirtual().inheritInheritableThreadLocals(config.propagateContext());
    }

    /** Creates the run and starts its coordinating thread; returns at once. */
    public static <R> PipelineRun<R> start(List<StageDeclaration> specs, RunConfig config, Duration timeout) {
        PipelineRun<R> run = new PipelineRun<>(specs, config, timeout);
        run.coordinator.start();
        return run;
    }

    // ------------------------------------------------------------------------------------------ control

    public void cancel() {
        abort(new Cancelled(new CancellationException("pipeline run cancelled")));
    }

    public void stop(Duration grace) {
        if (ending.get() != null || sinkCompleted || isDone()) {
            return;
        }
        stopDeadlineNanos = System.nanoTime() + Nanos.saturated(grace);
        stopping = true;
        stages[0].interruptThreads();
        poke();
    }

    /** Stages before {@code index} are no longer needed: they end quietly. */
    private void finishUpstreamOf(int index) {
        for (int j = 0; j < index; j++) {
            stages[j].finishedEarly = true;
        }
        if (index > 0 && finishedEarlyNanos == 0L) {
            finishedEarlyNanos = System.nanoTime();
            poke();
        }
        for (int j = 0; j < index; j++) {
            links.get(j).fail(DownstreamFinished.INSTANCE);
            for (var ch : stages[j].internalChannels) {
                ch.fail(DownstreamFinished.INSTANCE);
            }
        }
        for (int j = 0; j < index; j++) {
            stages[j].interruptThreads();
        }
    }

    private boolean abort(Ending cause) {
        if (abortedNanos == 0L) {
            abortedNanos = System.nanoTime(); // racing aborts write nearly the same time; any of them will do
        }
        if (sinkCompleted) {
            // The run has completed (the sink has its value, its consumer was told): too late to change how it
            // ended. Only stragglers remain, and they are interrupted.
            scope.cancel();
            poke();
            return false;
        }
        if (!ending.compareAndSet(null, cause)) {
            return false;
        }
        Throwable linkCause = cause.linkCause();
        for (Link<Object> link : links) {
            link.fail(linkCause);
        }
        for (RunningStage s : stages) {
            for (var ch : s.internalChannels) {
                ch.fail(linkCause);
            }
        }
        scope.cancel();
        poke();
        return true;
    }

    /** The narrow view of this run that its stage threads are given. */
    private final class AsOwner implements OwningRun {
        @Override
        public boolean isStopping() {
            return stopping;
        }

        @Override
        public boolean isAborting() {
            return ending.get() != null;
        }

        @Override
        public void finishUpstreamOf(int stageIndex) {
            PipelineRun.this.finishUpstreamOf(stageIndex);
        }

        @Override
        public void sinkCompleted() {
            // A stop that sets stopping after this read has no effect on the outcome: the run had completed.
            stoppedBeforeSinkCompleted = stopping;
            sinkCompleted = true;
        }

        @Override
        public Throwable abortCauseOr(Throwable fallback) {
            Ending e = ending.get();
            return e != null ? e.linkCause() : fallback;
        }
    }

    private void poke() {
        lock.lock();
        try {
            poked = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // -------------------------------------------------------------------------------------- coordination

    private void coordinate() {
        try (CallerContext.Restored restored = callerContext.restore()) {
            observation.start();
            try (RunObservation.Opened scope = observation.open()) {
                coordinateInContext();
            }
        }
    }

    private void coordinateInContext() {
        MDC.put(StageContext.MDC_CORRELATION_ID, correlationId);
        MDC.put(StageContext.MDC_PIPELINE, config.pipelineName());
        MDC.remove(StageContext.MDC_STAGE); // a run started from a stage's thread: that stage is not this run's
        try {
            listeners.start(snapshot());
            if (config.meterRegistry() != null) {
                meters = PipelineMeters.bind(config.meterRegistry(), config.pipelineName(), stages);
            }
            forkStages();
            watch();
            awaitProgress(); // before the scope's straggler reports, which call listeners too
            try {
                scope.join();
            } catch (ExecutionException | CancellationException | TimeoutException e) {
                // Stage threads never throw past their wrapper; a cancellation here is our own abort.
                log.debug("pipeline '{}': scope ended with {}", config.pipelineName(), e.toString());
            }
        } catch (Throwable t) {
            // A defect in Sluice itself, or an Error: make it this run's failure rather than a silent hang.
            log.error(
                    "pipeline '{}' (correlation {}): the run's coordinator failed",
                    config.pipelineName(),
                    correlationId,
                    t);
            abort(new Failed("<coordinator>", t));
        } finally {
            try {
                scope.close();
                if (sourceLoop != null) {
                    // Every stage thread has ended: what was not acknowledged now never will be, but by this call.
                    sourceLoop.releaseUnfinished();
                }
                finish();
            } finally {
                MDC.remove(StageContext.MDC_CORRELATION_ID);
                MDC.remove(StageContext.MDC_PIPELINE);
            }
        }
    }

    private void forkStages() {
        for (RunningStage stage : stages) {
            for (ConcurrentMapStage.Role role : rolesOf(stage)) {
                if (ending.get() != null) {
                    return;
                }
                liveThreads.incrementAndGet();
                String forkName = role.name() == null ? stage.name() : stage.name() + "/" + role.name();
                try {
                    scope.fork(forkName, () -> runStageThread(stage, role.body()));
                } catch (IllegalStateException cancelledMeanwhile) {
                    liveThreads.decrementAndGet();
                    return;
                }
            }
        }
    }

    private List<ConcurrentMapStage.Role> rolesOf(RunningStage stage) {
        Operator op = stage.spec.operator();
        return switch (op) {
            case Operator.FromSource s -> {
                sourceLoop = new SourceLoop(stage, s.source());
                yield List.of(new ConcurrentMapStage.Role(null, sourceLoop));
            }
            case Operator.Map m -> List.of(new ConcurrentMapStage.Role(null, new TransformLoop(stage)));
            case Operator.Filter f -> List.of(new ConcurrentMapStage.Role(null, new TransformLoop(stage)));
            case Operator.FlatMap f -> List.of(new ConcurrentMapStage.Role(null, new TransformLoop(stage)));
            case Operator.Peek p -> List.of(new ConcurrentMapStage.Role(null, new TransformLoop(stage)));
            case Operator.ConcurrentMap c -> ConcurrentMapStage.roles(stage, c);
            case Operator.KeyedMap k -> KeyedMapStage.roles(stage, k);
            case Operator.Batch b -> List.of(new ConcurrentMapStage.Role(null, new BatchLoop(stage, b)));
            case Operator.Take t -> List.of(new ConcurrentMapStage.Role(null, new TakeLoop(stage, t)));
            case Operator.Custom c -> List.of(new ConcurrentMapStage.Role(null, new CustomStageLoop(stage, c.body())));
            case Operator.ToSink s -> {
                sinkLoop = new SinkLoop(stage, s.logic());
                yield List.of(new ConcurrentMapStage.Role(null, sinkLoop));
            }
        };
    }

    /** The body of every stage thread: context in, the loop, and the sorting of how it ended. */
    private Object runStageThread(RunningStage stage, Callable<Object> body) {
        Thread self = Thread.currentThread();
        stage.threads.add(self);
        CallerContext.Restored restored = callerContext.restore();
        RunObservation.Opened observed = observation.open();
        MDC.put(StageContext.MDC_CORRELATION_ID, correlationId);
        MDC.put(StageContext.MDC_PIPELINE, config.pipelineName());
        MDC.put(StageContext.MDC_STAGE, stage.name());
        CurrentStageContext.set(stage.context);
        try {
            // An abort or early finish that came before this thread could be interrupted.
            if (stage.finishedEarly || ending.get() != null) {
                return null;
            }
            Object value = body.call();
            if (body == sinkLoop) {
                sinkValue = value; // sinkCompleted was set as the sink completed, before its last acknowledgements
            }
            return null;
        } catch (Throwable t) {
            if (!stage.finishedEarly && ending.get() == null) {
                abort(new Failed(stage.name(), t));
            }
            // Otherwise an echo of the abort, or the quiet end of a stage no longer needed.
            return null;
        } finally {
            CurrentStageContext.clear();
            observed.close();
            restored.close();
            stage.threads.remove(self);
            stage.threadEnded(System.nanoTime());
            if (liveThreads.decrementAndGet() == 0) {
                poke();
            }
        }
    }

    /** Waits for the stage threads, calling listeners and enforcing the deadline and the stop's grace. */
    private void watch() throws InterruptedException {
        long watchdog = Nanos.saturated(config.watchdogInterval());
        long nextStragglerReport = 0L;
        lock.lock();
        try {
            while (liveThreads.get() > 0 && ending.get() == null) {
                long now = System.nanoTime();
                if (hasDeadline && now - deadlineNanos >= 0) {
                    abort(new TimedOut(new CancellationException("pipeline run passed its deadline")));
                    return;
                }
                if (stopping && now - stopDeadlineNanos >= 0) {
                    abort(new Cancelled(new CancellationException(
                            "pipeline run stopped, and the grace period ran out before it drained")));
                    return;
                }
                // While a progress callback is under way, no other callback starts (callbacks never overlap): its
                // thread pokes when it ends.
                boolean listenersBusy = progressInFlight();
                long next = listenersBusy ? Long.MAX_VALUE : listeners.nextProgressDue();
                boolean progressDue = next != Long.MAX_VALUE && now - next >= 0;
                long earlyAt = finishedEarlyNanos;
                if (earlyAt != 0L && nextStragglerReport == 0L) {
                    nextStragglerReport = earlyAt + watchdog;
                }
                boolean stragglersDue = !listenersBusy && nextStragglerReport != 0L && now - nextStragglerReport >= 0;
                if (progressDue || stragglersDue) {
                    lock.unlock();
                    try {
                        if (progressDue) {
                            startProgress(now);
                        }
                        if (stragglersDue) {
                            reportStagesNotEndingEarly(Duration.ofNanos(now - earlyAt));
                        }
                    } finally {
                        lock.lock();
                    }
                    if (stragglersDue) {
                        nextStragglerReport = now + watchdog;
                    }
                    continue;
                }
                long wait = next == Long.MAX_VALUE ? Long.MAX_VALUE : next - now;
                if (hasDeadline) {
                    wait = Math.min(wait, deadlineNanos - now);
                }
                if (stopping) {
                    wait = Math.min(wait, stopDeadlineNanos - now);
                }
                if (nextStragglerReport != 0L && !listenersBusy) {
                    wait = Math.min(wait, nextStragglerReport - now);
                }
                if (!poked) {
                    changed.awaitNanos(wait);
                }
                poked = false;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether a progress callback is under way. Its thread's writes (the listeners' next due times) happen before it
     * sets {@link #progressEnded}, so once that is read true they are seen here.
     */
    private boolean progressInFlight() {
        return progressThread != null && !progressEnded;
    }

    /** Calls the listeners due at {@code now} on a thread of their own, in the run's context, as the coordinator's. */
    private void startProgress(long now) {
        awaitProgress(); // the previous one has ended its callbacks; it may still be poking
        progressEnded = false;
        progressThread = runThreads(config)
                .name("sluice-listeners-" + config.pipelineName())
                .start(() -> {
                    progressCaller = Thread.currentThread();
                    try (CallerContext.Restored restored = callerContext.restore();
                            RunObservation.Opened scope = observation.open()) {
                        MDC.put(StageContext.MDC_CORRELATION_ID, correlationId);
                        MDC.put(StageContext.MDC_PIPELINE, config.pipelineName());
                        MDC.remove(StageContext.MDC_STAGE);
                        listeners.progress(now, this::snapshot);
                    } finally {
                        MDC.remove(StageContext.MDC_CORRELATION_ID);
                        MDC.remove(StageContext.MDC_PIPELINE);
                        progressEnded = true; // after the callbacks: see progressInFlight
                        poke();
                    }
                });
    }

    /**
     * Waits, however interrupted, for the last progress thread: callbacks of a run never overlap, and onFinish comes
     * after every onProgress.
     */
    private void awaitProgress() {
        Thread t = progressThread;
        if (t == null) {
            return;
        }
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        progressThread = null;
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The watchdog for stages that were told to end because the stages after them finished early (a take, a
     * cancelled subscriber): the run is not aborted then, so the scope does not watch them; this does.
     */
    private void reportStagesNotEndingEarly(Duration since) {
        for (RunningStage stage : stages) {
            if (!stage.finishedEarly) {
                continue;
            }
            for (Thread t : stage.threads) {
                StackTraceElement[] where = t.getStackTrace();
                String at = StackDump.of(where);
                log.warn(
                        "pipeline '{}': stage '{}' (thread '{}') is still running {} ms after the stages after it"
                                + " finished; it does not respond to interruption. It is at:{}",
                        config.pipelineName(),
                        stage.name(),
                        t.getName(),
                        since.toMillis(),
                        at);
                listeners.stuck(stage.name(), where);
                StuckStageEvent.report(
                        config.pipelineName(),
                        correlationId,
                        stage.name(),
                        t,
                        where,
                        since.toNanos(),
                        config.watchdogInterval(),
                        "the stages after it finished early");
            }
        }
    }

    private void reportStuck(Thread thread) {
        for (RunningStage stage : stages) {
            if (stage.threads.contains(thread)) {
                StackTraceElement[] where = thread.getStackTrace();
                listeners.stuck(stage.name(), where);
                Ending e = ending.get();
                StuckStageEvent.report(
                        config.pipelineName(),
                        correlationId,
                        stage.name(),
                        thread,
                        where,
                        System.nanoTime() - abortedNanos,
                        config.watchdogInterval(),
                        e == null
                                ? "the run had completed, and its remaining threads were interrupted"
                                : "the run was aborted: " + e.outcome().name().toLowerCase(Locale.ROOT));
                return;
            }
        }
    }

    private void finish() {
        awaitProgress(); // the last onProgress ends before the run's end is recorded
        endNanos = System.nanoTime();
        PipelineSummary s = summarize();
        summary = s;
        try {
            observation.stop(s);
        } catch (Throwable ex) {
            log.warn("pipeline '{}': recording the run's observation failed", config.pipelineName(), ex);
        }
        if (meters != null) {
            try {
                meters.runEnded(stages, startNanos, s);
            } catch (Throwable ex) {
                log.warn("pipeline '{}': recording meters failed", config.pipelineName(), ex);
            }
        }
        if (log.isDebugEnabled()) {
            log.debug(
                    "pipeline '{}' (correlation {}) ended {}: {} items in {} ms",
                    config.pipelineName(),
                    correlationId,
                    s.outcome(),
                    s.itemCount(),
                    s.duration().toMillis());
        }
        runEvent.ended(s);
        listeners.finish(s);
    }

    private PipelineSummary summarize() {
        Ending e = ending.get();
        Outcome outcome;
        String failedStage = null;
        Throwable failure = null;
        if (e == null) {
            outcome = stoppedBeforeSinkCompleted ? Outcome.STOPPED : Outcome.COMPLETED;
        } else {
            outcome = e.outcome();
            if (e instanceof Failed f) {
                failedStage = f.stage();
                failure = f.cause();
            }
        }
        // Not opened: its thread never ran, or was never made (the run aborted while its stages were being forked).
        if (e != null && (sinkLoop == null || !sinkLoop.opened())) {
            try {
                ((Operator.ToSink) stages[stages.length - 1].spec.operator())
                        .logic()
                        .abandoned(e.linkCause());
            } catch (Throwable ex) {
                log.warn("pipeline '{}': the sink failed to report the aborted run", config.pipelineName(), ex);
            }
        }
        return new PipelineSummary(snapshot(), outcome, failedStage, failure);
    }

    // ------------------------------------------------------------------------------------------- views

    public String correlationId() {
        return correlationId;
    }

    public String pipelineName() {
        return config.pipelineName();
    }

    /** Whether the run has ended: its coordinator, the last of its threads, has terminated. */
    public boolean isDone() {
        return !coordinator.isAlive();
    }

    /** How many of the run's stage threads have not yet terminated (0 once the run has ended). */
    public int activeThreadCount() {
        return scope.activeCount();
    }

    /**
     * Waits for the run to end: for its coordinator thread to terminate, after every stage thread has and after
     * the listeners' {@code onFinish}. So when this returns, no thread of the run is alive.
     *
     * @throws IllegalStateException if called from the coordinator (a listener): it would wait for itself
     */
    public void awaitEnd() throws InterruptedException {
        refuseFromCoordinator();
        coordinator.join();
    }

    /** {@link #awaitEnd()} for at most {@code timeout}; whether the run has ended. */
    public boolean awaitEnd(Duration timeout) throws InterruptedException {
        refuseFromCoordinator();
        return coordinator.join(Duration.ofNanos(Nanos.saturated(timeout)));
    }

    /** {@link #awaitEnd()} without heeding interrupts; an interrupt meanwhile is restored on return. */
    public void awaitEndUninterruptibly() {
        refuseFromCoordinator();
        boolean interrupted = false;
        for (; ; ) {
            try {
                coordinator.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void refuseFromCoordinator() {
        Thread self = Thread.currentThread();
        if (self == coordinator || self == progressCaller) {
            throw new IllegalStateException("pipeline '" + config.pipelineName()
                    + "': a listener waited for the end of its own run, which would wait for itself");
        }
    }

    /** The result of an ended run, or the exception that stands for how it ended. */
    @SuppressWarnings("unchecked")
    public PipelineResult<R> outcomeOrThrow() {
        PipelineSummary s = summary;
        return switch (s.outcome()) {
            case COMPLETED, STOPPED -> new PipelineResult<>((R) sinkValue, s);
            case FAILED -> throw new PipelineFailedException(s);
            case CANCELLED, TIMED_OUT -> throw new PipelineCancelledException(s);
        };
    }

    public PipelineSnapshot snapshot() {
        long end = endNanos;
        Duration elapsed = Duration.ofNanos((end != 0 ? end : System.nanoTime()) - startNanos);
        return new PipelineSnapshot(
                config.pipelineName(), correlationId, runId, startedAt, elapsed, stageStats(elapsed), attributes);
    }

    private List<StageStats> stageStats(Duration elapsed) {
        List<StageStats> all = new ArrayList<>(stages.length);
        for (RunningStage s : stages) {
            all.add(s.stats(elapsed));
        }
        return all;
    }

    @Override
    public String toString() {
        PipelineSummary s = summary;
        return "PipelineRun[" + config.pipelineName() + ", correlation " + correlationId + ", "
                + (s != null ? s.outcome() : ending.get() != null ? "aborting" : stopping ? "stopping" : "running")
                + "]";
    }

    // ------------------------------------------------------------------------------------------ endings

    private sealed interface Ending permits Failed, Cancelled, TimedOut {
        Outcome outcome();

        /** What links and sinks are failed with. */
        Throwable linkCause();
    }

    private record Failed(String stage, Throwable cause) implements Ending {
        @Override
        public Outcome outcome() {
            return Outcome.FAILED;
        }

        @Override
        public Throwable linkCause() {
            return cause;
        }
    }

    private record Cancelled(CancellationException linkCause) implements Ending {
        @Override
        public Outcome outcome() {
            return Outcome.CANCELLED;
        }
    }

    private record TimedOut(CancellationException linkCause) implements Ending {
        @Override
        public Outcome outcome() {
            return Outcome.TIMED_OUT;
        }
    }

    /** The cause a link fails with when the stages after it no longer need items. Carries no stack. */
    static final class DownstreamFinished extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final DownstreamFinished INSTANCE = new DownstreamFinished();

        private DownstreamFinished() {
            super("the stages downstream finished early", null, false, false);
        }
    }
}
