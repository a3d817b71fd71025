package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.Link;
import dev.sluice.pipeline.internal.LinkSpec;
import dev.sluice.pipeline.internal.Operator;
import dev.sluice.pipeline.internal.PublisherView;
import dev.sluice.pipeline.internal.RunConfig;
import dev.sluice.pipeline.internal.StageDeclaration;
import dev.sluice.pipeline.internal.check.Require;
import io.micrometer.context.ThreadLocalAccessor;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Flow;
import java.util.function.Consumer;

/**
 * A lazy, immutable description of a pipeline without its sink: a source and the stages after it. Each method
 * returns a new description; nothing runs until {@link #to(Sink)} gives a {@link RunnablePipeline} and that is
 * run. A description can be shared and run any number of times, concurrently too.
 *
 * <pre>{@code
 * PipelineResult<Long> result = Pipeline.from(Source.from(users))
 *     .pipelineName("users-bulk")
 *     .map(User::normalize)
 *     .mapConcurrent(16, this::enrich)          // ordered; mapConcurrentUnordered for speed
 *     .filter(User::active)
 *     .batch(100, Duration.ofMillis(50))        // List<User>, at most 50 ms late
 *     .to(Sink.forEach(repository::saveAll))
 *     .run(Duration.ofMinutes(5));
 * }</pre>
 *
 * <h2>How it runs</h2>
 * Each stage runs on its own virtual thread ({@code mapConcurrent(n)} on n of them, plus two for ordering), all in
 * one {@link Scope}. Stages are joined by bounded channels of {@value #DEFAULT_CAPACITY} items unless
 * {@link #buffer} says otherwise. A stage takes the items already waiting in its input, at most
 * {@value #TRANSFER_BATCH} (or the input's capacity, if smaller) at a time, and passes its results on as soon as
 * the next stage waits for them, or in groups of that size while it is busy; so no item waits longer than the
 * processing of one group.
 *
 * <h2>Memory</h2>
 * A run holds at most the sum, over links, of capacity times items per element (a {@code batch} link carries
 * lists), plus what the stages hold: a single-threaded stage up to one group (see above); {@code batch(size, …)}
 * one batch; ordered {@code mapConcurrent(n)} a reorder window of {@code 2n} items plus a group on each side;
 * unordered {@code mapConcurrentUnordered(n)} n items; {@code mapConcurrentByKey} its window (plus a group of
 * input). A fast source therefore never runs further ahead of a slow sink than that.
 *
 * <h2>Bad input</h2>
 * Every method checks its arguments at once (null functions, sizes below 1, non-positive durations, duplicate
 * stage names) and throws {@link NullPointerException} or {@link IllegalArgumentException} naming the argument,
 * the value and the rule; a description that was built is valid.
 *
 * @param <T> the type of the items the last stage produces
 * @since 0.1
 */
public final class Pipeline<T> {

    /** The capacity of a link unless {@link #buffer} sets it. */
    public static final int DEFAULT_CAPACITY = 256;
    /** The most items a stage takes from its input, or passes on, at a time. */
    public static final int TRANSFER_BATCH = 64;
    /**
     * The most calls at once a concurrent stage ({@link #mapConcurrent} and its kin) may be given: 2^20. The stage
     * starts a virtual thread for each when the run starts, whether items come or not.
     */
    public static final int MAX_CONCURRENCY = 1 << 20;

    private final List<StageDeclaration> stages;
    private final RunConfig config;

    private Pipeline(List<StageDeclaration> stages, RunConfig config) {
        this.stages = stages;
        this.config = config;
    }

    /**
     * A pipeline that starts with {@code source}. The source stage is named {@code source}.
     *
     * @param <T> the type of the items
     * @param source run on a thread of its own in each run of the pipeline
     * @return a new, immutable description with the default name and run options
     * @throws NullPointerException if {@code source} is {@code null}
     */
    @SuppressWarnings("unchecked")
    public static <T> Pipeline<T> from(Source<? extends T> source) {
        Require.nonNull(source, "source");
        StageDeclaration spec = new StageDeclaration(
                "source", new Operator.FromSource((Source<Object>) source), ErrorPolicy.fail(), defaultLink());
        return new Pipeline<>(List.of(spec), RunConfig.defaults());
    }

    // ------------------------------------------------------------------------------------------- operators

    /**
     * Applies {@code fn} to each item. {@code fn} must not return null.
     *
     * @param <R> the type of the results
     * @param fn called on the stage's thread, one item at a time, in order
     * @return a new description with the stage appended; this one is unchanged
     * @throws NullPointerException if {@code fn} is {@code null}
     */
    @SuppressWarnings("unchecked")
    public <R> Pipeline<R> map(CheckedFunction<? super T, ? extends R> fn) {
        Require.nonNull(fn, "fn");
        return append("map", new Operator.Map((CheckedFunction<Object, Object>) fn));
    }

    /**
     * Keeps the items for which {@code predicate} holds.
     *
     * @param predicate called on the stage's thread, one item at a time; an item it rejects is dropped
     * @return a new description with the stage appended; this one is unchanged
     * @throws NullPointerException if {@code predicate} is {@code null}
     */
    @SuppressWarnings("unchecked")
    public Pipeline<T> filter(CheckedPredicate<? super T> predicate) {
        Require.nonNull(predicate, "predicate");
        return append("filter", new Operator.Filter((CheckedPredicate<Object>) predicate));
    }

    /**
     * Replaces each item with the items of the {@code Iterable} that {@code fn} returns, in order. The iterable is
     * consumed lazily, each result sent on as the next stage takes it, so a large expansion stays bounded.
     *
     * @param <R> the type of the results
     * @param fn called on the stage's thread for each item; an empty iterable drops the item
     * @return a new description with the stage appended; this one is unchanged
     * @throws NullPointerException if {@code fn} is {@code null}
     */
    @SuppressWarnings("unchecked")
    public <R> Pipeline<R> flatMap(CheckedFunction<? super T, ? extends Iterable<? extends R>> fn) {
        Require.nonNull(fn, "fn");
        return append("flatMap", new Operator.FlatMap((CheckedFunction<Object, ? extends Iterable<?>>) (Object) fn));
    }

    /**
     * Calls {@code action} with each item and passes the item on unchanged.
     *
     * @param action called on the stage's thread before the item is passed on
     * @return a new description with the stage appended; this one is unchanged
     * @throws NullPointerException if {@code action} is {@code null}
     */
    @SuppressWarnings("unchecked")
    public Pipeline<T> peek(CheckedConsumer<? super T> action) {
        Require.nonNull(action, "action");
        return append("peek", new Operator.Peek((CheckedConsumer<Object>) action));
    }

    /**
     * Applies {@code fn} to up to {@code concurrency} items at once, each call on its own virtual thread, and
     * passes the results on <b>in input order</b>. Made for blocking calls (a database, a remote service). While
     * the oldest item is still in progress, the others go on, up to a reorder window of {@code 2 × concurrency}
     * items; then the stage stops taking input until the oldest is done. (It holds at most the window plus one
     * group of input and one of output; see Memory above.)
     *
     * @param <R> the type of the results
     * @param concurrency the most calls of {@code fn} at once, from 1 to {@value #MAX_CONCURRENCY} (the stage starts
     *     a thread for each)
     * @param fn called on a virtual thread of the stage; must not return null
     * @return a new description with the stage appended; this one is unchanged
     * @throws NullPointerException if {@code fn} is {@code null}
     * @throws IllegalArgumentException if {@code concurrency} is not between 1 and {@value #MAX_CONCURRENCY}
     */
    @SuppressWarnings("unchecked")
    public <R> Pipeline<R> mapConcurrent(int concurrency, CheckedFunction<? super T, ? extends R> fn) {
        requireConcurrency(concurrency);
        Require.nonNull(fn, "fn");
        return append(
                "mapConcurrent", new Operator.ConcurrentMap((CheckedFunction<Object, Object>) fn, concurrency, true));
    }

    /**
     * Like {@link #mapConcurrent} but passes each result on as soon as it is ready, in no particular order: no
     * reorder window, so a slow item never holds back the others.
     *
     * @param <R> the type of the results
     * @param concurrency the most calls of {@code fn} at once, from 1 to {@value #MAX_CONCURRENCY} (the stage starts
     *     a thread for each)
     * @param fn called on a virtual thread of the stage; must not return null
     * @return a new description with the stage appended; this one is unchanged
     * @throws NullPointerException if {@code fn} is {@code null}
     * @throws IllegalArgumentException if {@code concurrency} is not between 1 and {@value #MAX_CONCURRENCY}
     */
    @SuppressWarnings("unchecked")
    public <R> Pipeline<R> mapConcurrentUnordered(int concurrency, CheckedFunction<? super T, ? extends R> fn) {
        requireConcurrency(concurrency);
        Require.nonNull(fn, "fn");
        return append(
                "mapConcurrentUnordered",
                new Operator.ConcurrentMap((CheckedFunction<Object, Object>) fn, concurrency, false));
    }

    /**
     * Applies {@code fn} to up to {@code concurrency} items at once, keeping <b>input order within each key</b>:
     * items with equal keys ({@code keyFn}, compared with {@code equals}) are processed one at a time, in input
     * order, and each result is passed on before the key's next item starts; items of different keys run in
     * parallel and their results pass on as they are ready. Made for consumer jobs that must keep order per account
     * or per device.
     *
     * <p>The stage holds at most {@code 4 × concurrency} items (its window; see
     * {@link #mapConcurrentByKey(int, int, CheckedFunction, CheckedFunction)}). A slow key holds back the others
     * only once the window is full of its items: then the stage stops taking input until one of them is done.
     *
     * <p>The keys' {@code hashCode} is called once per item, on the stage's dispatching thread; their {@code equals}
     * is called while the stage's threads share one lock, so it must be quick and must not block. A key whose
     * {@code hashCode} or {@code equals} throws fails its item, which goes to the stage's error policy.
     *
     * @param <R> the type of the results
     * @param concurrency the most calls of {@code fn} at once, from 1 to {@value #MAX_CONCURRENCY} (the stage starts
     *     a thread for each)
     * @param keyFn the key of an item, never null; its failures go to the stage's error policy, like {@code fn}'s
     * @param fn the function, called on a virtual thread of the stage; must not return null
     * @return the extended pipeline
     * @throws IllegalArgumentException if {@code concurrency} is not between 1 and {@value #MAX_CONCURRENCY}
     * @throws NullPointerException if {@code keyFn} or {@code fn} is null
     * @since 0.1
     */
    public <R> Pipeline<R> mapConcurrentByKey(
            int concurrency, CheckedFunction<? super T, ?> keyFn, CheckedFunction<? super T, ? extends R> fn) {
        requireConcurrency(concurrency);
        return mapConcurrentByKey(concurrency, 4 * concurrency, keyFn, fn);
    }

    /**
     * {@link #mapConcurrentByKey(int, CheckedFunction, CheckedFunction)} with a window of its own: the most items
     * the stage holds between taking one in and passing its result on (queued behind their key, or in a call). The
     * window bounds the stage's memory, and how far one slow key can fall behind the others: while it holds fewer
     * than {@code window} items, the other keys go on; once the window is full of its items, the stage waits.
     *
     * @param <R> the type of the results
     * @param concurrency the most calls of {@code fn} at once, from 1 to {@value #MAX_CONCURRENCY} (the stage starts
     *     a thread for each)
     * @param window the most items held at once, from {@code concurrency} to 2^30
     * @param keyFn the key of an item, never null; its failures go to the stage's error policy, like {@code fn}'s
     * @param fn the function, called on a virtual thread of the stage; must not return null
     * @return the extended pipeline
     * @throws IllegalArgumentException if {@code concurrency} is not between 1 and {@value #MAX_CONCURRENCY}, or
     *     {@code window} not between {@code concurrency} and 2^30
     * @throws NullPointerException if {@code keyFn} or {@code fn} is null
     * @since 0.1
     */
    @SuppressWarnings("unchecked")
    public <R> Pipeline<R> mapConcurrentByKey(
            int concurrency,
            int window,
            CheckedFunction<? super T, ?> keyFn,
            CheckedFunction<? super T, ? extends R> fn) {
        requireConcurrency(concurrency);
        Require.argument(window >= concurrency, "window", "be at least concurrency (" + concurrency + ")", window);
        Require.between(window, 1, 1 << 30, "window");
        Require.nonNull(keyFn, "keyFn");
        Require.nonNull(fn, "fn");
        return append(
                "mapConcurrentByKey",
                new Operator.KeyedMap(
                        (CheckedFunction<Object, ?>) keyFn, (CheckedFunction<Object, Object>) fn, concurrency, window));
    }

    /**
     * Groups items into lists of {@code size}; a list is passed on early, incomplete, once {@code maxWait} has
     * passed since its first item arrived, and at the end of the input. Lists are never empty, never larger than
     * {@code size}, and keep the input order.
     *
     * @param size the number of items in a full list
     * @param maxWait the longest the first item of a list waits for the list to fill
     * @return a new description with the stage appended, whose items are the lists; this one is unchanged
     * @throws NullPointerException if {@code maxWait} is {@code null}
     * @throws IllegalArgumentException if {@code size < 1} or {@code maxWait} is not positive
     */
    public Pipeline<List<T>> batch(int size, Duration maxWait) {
        Require.atLeast(size, 1, "size");
        Require.positive(maxWait, "maxWait");
        return append("batch", new Operator.Batch(size, maxWait));
    }

    /**
     * Passes on the first {@code limit} items, then finishes: the stages before it are stopped (their threads
     * interrupted, what they hold abandoned) and the stages after it drain and complete normally.
     *
     * @param limit the most items passed on
     * @return a new description with the stage appended; this one is unchanged
     * @throws IllegalArgumentException if {@code limit < 0}
     */
    public Pipeline<T> take(long limit) {
        Require.notNegative(limit, "limit");
        return append("take", new Operator.Take(limit));
    }

    /**
     * Passes the items through a stage of your own (see {@link Stage} for its contract), named {@code via} unless
     * {@link #named} says otherwise. The stage runs on one thread of its own, like {@code map}, and holds whatever its
     * body holds on top of the links.
     *
     * <p><b>Incubating:</b> this hook may change in a minor release.
     *
     * @param stage the stage's body, run once per run
     * @param <R> the type of the stage's output
     * @return the pipeline with the stage appended
     * @throws NullPointerException if {@code stage} is null
     * @since 0.1
     */
    @SuppressWarnings("unchecked")
    public <R> Pipeline<R> via(Stage<? super T, ? extends R> stage) {
        Require.nonNull(stage, "stage");
        return append("via", new Operator.Custom((Stage<Object, Object>) (Object) stage));
    }

    // ------------------------------------------------------------------------- modifiers of the last stage

    /**
     * Sets the capacity of the link after the last stage (overflow {@link Overflow#BLOCK}).
     *
     * @param capacity the most items the link holds (default {@value #DEFAULT_CAPACITY})
     * @return a new description with that link; this one is unchanged
     * @throws IllegalArgumentException if {@code capacity} is not between 1 and 2^30
     */
    public Pipeline<T> buffer(int capacity) {
        return buffer(capacity, Overflow.BLOCK);
    }

    /**
     * Sets the capacity and overflow policy of the link after the last stage. With a drop policy the items
     * discarded are counted in that stage's {@code dropped}; with {@link Overflow#FAIL} a full link fails the run.
     *
     * @param capacity the most items the link holds (default {@value #DEFAULT_CAPACITY})
     * @param overflow what the last stage's send does when the link is full
     * @return a new description with that link; this one is unchanged
     * @throws NullPointerException if {@code overflow} is {@code null}
     * @throws IllegalArgumentException if {@code capacity} is not between 1 and 2^30
     */
    public Pipeline<T> buffer(int capacity, Overflow overflow) {
        Link.requireCapacity(capacity);
        Require.nonNull(overflow, "overflow");
        return replaceLast(last().withOutput(new LinkSpec(capacity, overflow)));
    }

    /**
     * Names the last stage (the source, if no stage follows it yet), as {@link Sink#named} names the sink. Names
     * appear in summaries, metrics tags, thread names and the MDC; they must be unique within a pipeline. Without
     * a name a stage is called after its operator ({@code map}, {@code map-2}, ...).
     *
     * @param stageName the stage's name, unique within the pipeline
     * @return a new description whose last stage has that name; this one is unchanged
     * @throws NullPointerException if {@code stageName} is null
     * @throws IllegalArgumentException if the name is blank or already used by another stage
     * @since 0.1
     */
    public Pipeline<T> named(String stageName) {
        Require.notBlank(stageName, "stageName");
        for (int i = 0; i < stages.size() - 1; i++) {
            if (stages.get(i).name().equals(stageName)) {
                throw new IllegalArgumentException("stage name '" + stageName + "' is already used by stage " + i);
            }
        }
        return replaceLast(last().withName(stageName));
    }

    /**
     * Sets what the last stage does when its function throws (default {@link ErrorPolicy#fail()}).
     *
     * @param policy the last stage's policy, replacing an earlier one
     * @return a new description with that policy; this one is unchanged
     * @throws NullPointerException if {@code policy} is {@code null}
     * @throws IllegalStateException if the last stage has no function (the source, {@code batch}, {@code take})
     */
    public Pipeline<T> onError(ErrorPolicy policy) {
        Require.nonNull(policy, "policy");
        StageDeclaration last = last();
        if (!last.operator().hasFunction()) {
            throw new IllegalStateException("stage '" + last.name() + "' runs no function of yours, so an error policy"
                    + " has nothing to apply to; put onError after map, filter, flatMap, peek or mapConcurrent");
        }
        return replaceLast(last.withErrorPolicy(policy));
    }

    // ------------------------------------------------------------------------------------- run options

    /**
     * Names the pipeline: the {@code pipeline} tag of its metrics, the prefix of its thread names, the
     * {@code pipeline} key of its MDC, its audit method. Runs of one name share their meters. The default is
     * {@code pipeline}.
     *
     * @param pipelineName the pipeline's name
     * @return a new description with that name; this one is unchanged
     * @throws NullPointerException if {@code pipelineName} is null
     * @throws IllegalArgumentException if {@code pipelineName} is blank
     * @since 0.1
     */
    public Pipeline<T> pipelineName(String pipelineName) {
        return new Pipeline<>(stages, config.withName(Require.notBlank(pipelineName, "pipelineName")));
    }

    /**
     * Uses {@code correlationId} for every run, instead of a fresh random UUID per run.
     *
     * @param correlationId the ID of every run, in its MDC, its summary and its audit record
     * @return a new description with that ID; this one is unchanged
     * @throws NullPointerException if {@code correlationId} is {@code null}
     * @throws IllegalArgumentException if {@code correlationId} is blank
     */
    public Pipeline<T> correlationId(String correlationId) {
        return new Pipeline<>(stages, config.withCorrelationId(Require.notBlank(correlationId, "correlationId")));
    }

    /**
     * Adds a listener, with progress every second.
     *
     * @param listener called on a thread of each run (see {@link PipelineListener}); added to any earlier ones
     * @return a new description with the listener; this one is unchanged
     * @throws NullPointerException if {@code listener} is {@code null}
     */
    public Pipeline<T> listener(PipelineListener listener) {
        return listener(listener, RunConfig.DEFAULT_PROGRESS_INTERVAL);
    }

    /**
     * Adds a listener, with progress every {@code progressInterval}.
     *
     * @param listener called on a thread of each run (see {@link PipelineListener}); added to any earlier ones
     * @param progressInterval the time between two {@link PipelineListener#onProgress} calls
     * @return a new description with the listener; this one is unchanged
     * @throws NullPointerException if {@code listener} is {@code null}
     * @throws IllegalArgumentException if {@code progressInterval} is not positive
     */
    public Pipeline<T> listener(PipelineListener listener, Duration progressInterval) {
        Require.nonNull(listener, "listener");
        Require.positive(progressInterval, "progressInterval");
        return new Pipeline<>(stages, config.withListener(listener, progressInterval));
    }

    /**
     * Calls {@code monitor} with a snapshot every {@code interval} while a run goes on: items, items per second,
     * each stage's counters and link fill. The Sluice answer to "log the items/sec every 1000 items".
     *
     * @param interval the time between two calls
     * @param monitor called as a listener's {@code onProgress}, never on a stage thread
     * @return a new description with the monitor; this one is unchanged
     * @throws NullPointerException if {@code monitor} is {@code null}
     * @throws IllegalArgumentException if {@code interval} is not positive
     */
    public Pipeline<T> monitor(Duration interval, Consumer<? super PipelineSnapshot> monitor) {
        Require.nonNull(monitor, "monitor");
        return listener(
                new PipelineListener() {
                    @Override
                    public void onProgress(PipelineSnapshot progress) {
                        monitor.accept(progress);
                    }
                },
                interval);
    }

    /**
     * Registers each run's meters in {@code registry}, tagged {@code pipeline} and {@code stage}:
     * {@code sluice.pipeline.items} (a counter per outcome), {@code sluice.pipeline.stage.duration},
     * {@code sluice.pipeline.run} (timers), {@code sluice.pipeline.channel.size} and {@code .capacity} (gauges of
     * each stage's input link). Stages keep plain counters that the meters read when the registry is scraped: no
     * Micrometer call per item. Runs of one pipeline name share its meters.
     *
     * @param registry where the meters are registered, once per pipeline name and stage
     * @return a new description that registers its meters there; this one is unchanged
     * @throws NullPointerException if {@code registry} is null
     * @since 0.1
     */
    public Pipeline<T> meterRegistry(MeterRegistry registry) {
        return new Pipeline<>(stages, config.withMeterRegistry(Require.nonNull(registry, "registry")));
    }

    /**
     * Records each run as one Micrometer {@code Observation} in {@code registry}, named {@code sluice.pipeline}:
     * started when the run starts, with the observation current on the starting thread as its parent; current in
     * every thread of the run, so that a tracer bridged to the registry shows the run as a span, and calls made from a
     * stage with an observation interceptor on their channel as its children; stopped when the run ends. Its key
     * values: {@code pipeline} and {@code outcome} (low cardinality), {@code correlation.id}, {@code items} and, on
     * failure, {@code stage} (high cardinality); a failure is recorded as its error, and so is a passed deadline (a
     * {@code java.util.concurrent.TimeoutException}), while a cancelled or stopped run has none. A handler that records
     * meters makes a timer {@code sluice.pipeline} of it, beside {@link #meterRegistry}'s {@code sluice.pipeline.run}.
     * Observation handlers run on the run's threads; one that throws is logged, and the run goes on.
     *
     * @param registry where each run's observation is recorded
     * @return a pipeline like this one whose runs are observed
     * @throws NullPointerException if {@code registry} is null
     * @since 0.1
     */
    public Pipeline<T> observationRegistry(ObservationRegistry registry) {
        return new Pipeline<>(stages, config.withObservationRegistry(Require.nonNull(registry, "registry")));
    }

    /**
     * How often a stage that ignores cancellation is logged and reported to listeners. Default 10 s.
     *
     * @param interval the time between two reports of the same stuck stage
     * @return a new description with that interval; this one is unchanged
     * @throws IllegalArgumentException if {@code interval} is not positive
     */
    public Pipeline<T> watchdog(Duration interval) {
        Require.positive(interval, "interval");
        return new Pipeline<>(stages, config.withWatchdogInterval(interval));
    }

    /**
     * Whether each run's threads (its stages, {@code mapConcurrent}'s workers, the threads that call the listeners)
     * start with the context of the thread that calls {@code run()} or {@code start()}: its SLF4J MDC, under the
     * run's own keys, and every thread-local that an accessor in context-propagation's global
     * {@code io.micrometer.context.ContextRegistry} reads (Micrometer's current {@code Observation}, OpenTelemetry's
     * context where its accessor is registered, a user's own). Captured when the run starts, cleared from each thread
     * when it ends. Default {@code true}. With {@code false} the run's threads carry only the run's own MDC keys and
     * what {@link #propagate(ThreadLocalAccessor)} names, and do not inherit the caller's {@code InheritableThreadLocal}
     * values either.
     *
     * @param propagate whether to carry the caller's context into the run's threads
     * @return a pipeline like this one with the option set
     * @since 0.1
     */
    public Pipeline<T> propagateContext(boolean propagate) {
        return new Pipeline<>(stages, config.withPropagateContext(propagate));
    }

    /**
     * Carries {@code accessor}'s thread-local from the thread that starts each run into every thread of the run,
     * whether or not {@link #propagateContext(boolean)} is on: for a context that should travel with this pipeline
     * only, rather than with everything that uses the global registry. An accessor with the same key replaces an
     * earlier one. The value is read once, when the run starts; a thread-local with no value there is left alone.
     * {@code ServerStreams} names gRPC's {@code Context} this way, so a served pipeline's calls carry the deadline and
     * cancellation of the call it serves.
     *
     * @param accessor reads and sets the thread-local; called on the starting thread and on each of the run's
     *     threads
     * @return a pipeline like this one that carries the thread-local too
     * @throws NullPointerException if {@code accessor} is null
     * @since 0.1
     */
    public Pipeline<T> propagate(ThreadLocalAccessor<?> accessor) {
        Require.nonNull(accessor, "accessor");
        return new Pipeline<>(stages, config.withPropagated(accessor));
    }

    // --------------------------------------------------------------------------------------------- ends

    /**
     * Completes the description with a sink. The sink stage is named after the sink (see {@link Sink#named}).
     *
     * @param <R> the type of the run's value
     * @param sink the last stage, whose value each run returns
     * @return a runnable pipeline; each run or start is independent
     * @throws NullPointerException if {@code sink} is {@code null}
     * @throws IllegalArgumentException if the sink's name is already used by another stage
     */
    public <R> RunnablePipeline<R> to(Sink<? super T, R> sink) {
        Require.nonNull(sink, "sink");
        @SuppressWarnings("unchecked")
        Operator.ToSink op =
                new Operator.ToSink((dev.sluice.pipeline.internal.SinkLogic<Object, ?>) (Object) sink.logic);
        List<StageDeclaration> all = new ArrayList<>(stages);
        all.add(new StageDeclaration(sink.name, op, sink.errorPolicy, null));
        requireUniqueNames(all);
        return new RunnablePipeline<>(List.copyOf(all), config);
    }

    /**
     * This pipeline as a {@code Flow.Publisher}: each subscription runs it anew, into a
     * {@link Sink#toSubscriber} sink, so the subscriber's demand paces the whole pipeline and cancelling the
     * subscription finishes the run. Reactor, RxJava and Akka Streams subscribe to it as to any publisher.
     *
     * @return a publisher that starts one run per subscription
     */
    public Flow.Publisher<T> toPublisher() {
        return new PublisherView<>(
                subscriber -> to(Sink.toSubscriber(subscriber)).start());
    }

    @Override
    public String toString() {
        StringBuilder b =
                new StringBuilder("Pipeline[").append(config.pipelineName()).append(": ");
        for (int i = 0; i < stages.size(); i++) {
            b.append(i == 0 ? "" : " -> ").append(stages.get(i).name());
        }
        return b.append(']').toString();
    }

    // ---------------------------------------------------------------------------------------- internals

    private <R> Pipeline<R> append(String kind, Operator op) {
        List<StageDeclaration> all = new ArrayList<>(stages.size() + 1);
        all.addAll(stages);
        all.add(new StageDeclaration(uniqueName(kind), op, ErrorPolicy.fail(), defaultLink()));
        return new Pipeline<>(List.copyOf(all), config);
    }

    private String uniqueName(String kind) {
        Set<String> used = new HashSet<>();
        for (StageDeclaration s : stages) {
            used.add(s.name());
        }
        if (!used.contains(kind)) {
            return kind;
        }
        for (int n = 2; ; n++) {
            String candidate = kind + "-" + n;
            if (!used.contains(candidate)) {
                return candidate;
            }
        }
    }

    private StageDeclaration last() {
        return stages.get(stages.size() - 1);
    }

    private Pipeline<T> replaceLast(StageDeclaration spec) {
        List<StageDeclaration> all = new ArrayList<>(stages);
        all.set(all.size() - 1, spec);
        return new Pipeline<>(List.copyOf(all), config);
    }

    private static void requireConcurrency(int concurrency) {
        Require.argument(
                concurrency >= 1 && concurrency <= MAX_CONCURRENCY,
                "concurrency",
                "be between 1 and " + MAX_CONCURRENCY + " (2^20; the stage starts a thread for each)",
                concurrency);
    }

    private static LinkSpec defaultLink() {
        return new LinkSpec(DEFAULT_CAPACITY, Overflow.BLOCK);
    }

    private static void requireUniqueNames(List<StageDeclaration> all) {
        Set<String> seen = new HashSet<>();
        for (StageDeclaration s : all) {
            if (!seen.add(s.name())) {
                throw new IllegalArgumentException(
                        "stage name '" + s.name() + "' is used twice; name stages apart with named(...)");
            }
        }
    }
}
