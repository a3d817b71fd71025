package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.Link;
import dev.sluice.pipeline.internal.LinkSpec;
import dev.sluice.pipeline.internal.Operator;
import dev.sluice.pipeline.internal.PublisherView;
import dev.sluice.pipeline.internal.RunConfig;
import dev.sluice.pipeline.internal.StageSpec;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
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
 *     .named("users-bulk")
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
 * unordered {@code mapConcurrentUnordered(n)} n items. A fast source therefore never runs further ahead of a slow
 * sink than that.
 *
 * <h2>Bad input</h2>
 * Every method checks its arguments at once (null functions, sizes below 1, non-positive durations, duplicate
 * stage names) and throws {@link NullPointerException} or {@link IllegalArgumentException} naming the argument,
 * the value and the rule; a description that was built is valid.
 *
 * @param <T> the type of the items the last stage produces
 */
public final class Pipeline<T> {

    /** The capacity of a link unless {@link #buffer} sets it. */
    public static final int DEFAULT_CAPACITY = 256;
    /** The most items a stage takes from its input, or passes on, at a time. */
    public static final int TRANSFER_BATCH = 64;

    private final List<StageSpec> stages;
    private final RunConfig config;

    private Pipeline(List<StageSpec> stages, RunConfig config) {
        this.stages = stages;
        this.config = config;
    }

    /** A pipeline that starts with {@code source}. The source stage is named {@code source}. */
    @SuppressWarnings("unchecked")
    public static <T> Pipeline<T> from(Source<? extends T> source) {
        Objects.requireNonNull(source, "source must not be null");
        StageSpec spec = new StageSpec(
                "source", new Operator.FromSource((Source<Object>) source), ErrorPolicy.fail(), defaultLink());
        return new Pipeline<>(List.of(spec), RunConfig.defaults());
    }

    // ------------------------------------------------------------------------------------------- operators

    /** Applies {@code fn} to each item. {@code fn} must not return null. */
    @SuppressWarnings("unchecked")
    public <R> Pipeline<R> map(CheckedFunction<? super T, ? extends R> fn) {
        Objects.requireNonNull(fn, "fn must not be null");
        return append("map", new Operator.Map((CheckedFunction<Object, Object>) fn));
    }

    /** Keeps the items for which {@code predicate} holds. */
    @SuppressWarnings("unchecked")
    public Pipeline<T> filter(CheckedPredicate<? super T> predicate) {
        Objects.requireNonNull(predicate, "predicate must not be null");
        return append("filter", new Operator.Filter((CheckedPredicate<Object>) predicate));
    }

    /**
     * Replaces each item with the items of the {@code Iterable} that {@code fn} returns, in order. The iterable is
     * consumed lazily, each result sent on as the next stage takes it, so a large expansion stays bounded.
     */
    @SuppressWarnings("unchecked")
    public <R> Pipeline<R> flatMap(CheckedFunction<? super T, ? extends Iterable<? extends R>> fn) {
        Objects.requireNonNull(fn, "fn must not be null");
        return append("flatMap", new Operator.FlatMap((CheckedFunction<Object, ? extends Iterable<?>>) (Object) fn));
    }

    /** Calls {@code action} with each item and passes the item on unchanged. */
    @SuppressWarnings("unchecked")
    public Pipeline<T> peek(CheckedConsumer<? super T> action) {
        Objects.requireNonNull(action, "action must not be null");
        return append("peek", new Operator.Peek((CheckedConsumer<Object>) action));
    }

    /**
     * Applies {@code fn} to up to {@code concurrency} items at once, each call on its own virtual thread, and
     * passes the results on <b>in input order</b>. Made for blocking calls (a database, a remote service). While
     * the oldest item is still in progress, the others go on, up to a reorder window of {@code 2 × concurrency}
     * items; then the stage stops taking input until the oldest is done. (It holds at most the window plus one
     * group of input and one of output; see Memory above.)
     *
     * @throws IllegalArgumentException if {@code concurrency < 1}
     */
    @SuppressWarnings("unchecked")
    public <R> Pipeline<R> mapConcurrent(int concurrency, CheckedFunction<? super T, ? extends R> fn) {
        requireConcurrency(concurrency);
        Objects.requireNonNull(fn, "fn must not be null");
        return append(
                "mapConcurrent", new Operator.ConcurrentMap((CheckedFunction<Object, Object>) fn, concurrency, true));
    }

    /**
     * Like {@link #mapConcurrent} but passes each result on as soon as it is ready, in no particular order: no
     * reorder window, so a slow item never holds back the others.
     *
     * @throws IllegalArgumentException if {@code concurrency < 1}
     */
    @SuppressWarnings("unchecked")
    public <R> Pipeline<R> mapConcurrentUnordered(int concurrency, CheckedFunction<? super T, ? extends R> fn) {
        requireConcurrency(concurrency);
        Objects.requireNonNull(fn, "fn must not be null");
        return append(
                "mapConcurrentUnordered",
                new Operator.ConcurrentMap((CheckedFunction<Object, Object>) fn, concurrency, false));
    }

    /**
     * Groups items into lists of {@code size}; a list is passed on early, incomplete, once {@code maxWait} has
     * passed since its first item arrived, and at the end of the input. Lists are never empty, never larger than
     * {@code size}, and keep the input order.
     *
     * @throws IllegalArgumentException if {@code size < 1} or {@code maxWait} is not positive
     */
    public Pipeline<List<T>> batch(int size, Duration maxWait) {
        if (size < 1) {
            throw new IllegalArgumentException("size must be at least 1, got " + size);
        }
        Objects.requireNonNull(maxWait, "maxWait must not be null");
        if (maxWait.isNegative() || maxWait.isZero()) {
            throw new IllegalArgumentException("maxWait must be positive, got " + maxWait);
        }
        return append("batch", new Operator.Batch(size, maxWait));
    }

    /**
     * Passes on the first {@code limit} items, then finishes: the stages before it are stopped (their threads
     * interrupted, what they hold abandoned) and the stages after it drain and complete normally.
     *
     * @throws IllegalArgumentException if {@code limit < 0}
     */
    public Pipeline<T> take(long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative, got " + limit);
        }
        return append("take", new Operator.Take(limit));
    }

    /**
     * Passes the items through a stage of your own (see {@link Stage} for its contract), named {@code via} unless
     * {@link #as} says otherwise. The stage runs on one thread of its own, like {@code map}, and holds whatever its
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
        Objects.requireNonNull(stage, "stage must not be null");
        return append("via", new Operator.Custom((Stage<Object, Object>) (Object) stage));
    }

    // ------------------------------------------------------------------------- modifiers of the last stage

    /** Sets the capacity of the link after the last stage (overflow {@link Overflow#BLOCK}). */
    public Pipeline<T> buffer(int capacity) {
        return buffer(capacity, Overflow.BLOCK);
    }

    /**
     * Sets the capacity and overflow policy of the link after the last stage. With a drop policy the items
     * discarded are counted in that stage's {@code dropped}; with {@link Overflow#FAIL} a full link fails the run.
     *
     * @throws IllegalArgumentException if {@code capacity} is not between 1 and 2^30
     */
    public Pipeline<T> buffer(int capacity, Overflow overflow) {
        Link.requireCapacity(capacity);
        Objects.requireNonNull(overflow, "overflow must not be null");
        return replaceLast(last().withOutput(new LinkSpec(capacity, overflow)));
    }

    /**
     * Names the last stage (the source, if no stage follows it yet). Names appear in summaries, metrics tags,
     * thread names and the MDC; they must be unique within a pipeline.
     *
     * @throws IllegalArgumentException if the name is blank or already used by another stage
     */
    public Pipeline<T> as(String stageName) {
        requireName(stageName, "stageName");
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
     * @throws IllegalStateException if the last stage has no function (the source, {@code batch}, {@code take})
     */
    public Pipeline<T> onError(ErrorPolicy policy) {
        Objects.requireNonNull(policy, "policy must not be null");
        StageSpec last = last();
        if (!last.operator().hasFunction()) {
            throw new IllegalStateException("stage '" + last.name() + "' runs no function of yours, so an error policy"
                    + " has nothing to apply to; put onError after map, filter, flatMap, peek or mapConcurrent");
        }
        return replaceLast(last.withErrorPolicy(policy));
    }

    // ------------------------------------------------------------------------------------- run options

    /** Names the pipeline: the {@code pipeline} tag of its metrics, its thread names, its audit method. */
    public Pipeline<T> named(String pipelineName) {
        return new Pipeline<>(stages, config.withName(requireName(pipelineName, "pipelineName")));
    }

    /** Uses {@code correlationId} for every run, instead of a fresh random UUID per run. */
    public Pipeline<T> correlationId(String correlationId) {
        return new Pipeline<>(stages, config.withCorrelationId(requireName(correlationId, "correlationId")));
    }

    /** Adds a listener, with progress every second. */
    public Pipeline<T> listener(PipelineListener listener) {
        return listener(listener, RunConfig.DEFAULT_PROGRESS_INTERVAL);
    }

    /** Adds a listener, with progress every {@code progressInterval}. */
    public Pipeline<T> listener(PipelineListener listener, Duration progressInterval) {
        Objects.requireNonNull(listener, "listener must not be null");
        requirePositive(progressInterval, "progressInterval");
        return new Pipeline<>(stages, config.withListener(listener, progressInterval));
    }

    /**
     * Calls {@code monitor} with a snapshot every {@code interval} while a run goes on: items, items per second,
     * each stage's counters and link fill. The Sluice answer to "log the items/sec every 1000 items".
     */
    public Pipeline<T> monitor(Duration interval, Consumer<? super PipelineSnapshot> monitor) {
        Objects.requireNonNull(monitor, "monitor must not be null");
        return listener(
                new PipelineListener() {
                    @Override
                    public void onProgress(PipelineSnapshot progress) {
                        monitor.accept(progress);
                    }
                },
                interval);
    }

    /** Registers the run's meters (see the README's Metrics section) in {@code registry}. */
    public Pipeline<T> meterRegistry(MeterRegistry registry) {
        return new Pipeline<>(
                stages, config.withMeterRegistry(Objects.requireNonNull(registry, "registry must not be null")));
    }

    /** How often a stage that ignores cancellation is logged and reported to listeners. Default 10 s. */
    public Pipeline<T> watchdog(Duration interval) {
        requirePositive(interval, "interval");
        return new Pipeline<>(stages, config.withWatchdogInterval(interval));
    }

    // --------------------------------------------------------------------------------------------- ends

    /**
     * Completes the description with a sink. The sink stage is named after the sink (see {@link Sink#named}).
     *
     * @throws IllegalArgumentException if the sink's name is already used by another stage
     */
    public <R> RunnablePipeline<R> to(Sink<? super T, R> sink) {
        Objects.requireNonNull(sink, "sink must not be null");
        @SuppressWarnings("unchecked")
        Operator.ToSink op =
                new Operator.ToSink((dev.sluice.pipeline.internal.SinkLogic<Object, ?>) (Object) sink.logic);
        List<StageSpec> all = new ArrayList<>(stages);
        all.add(new StageSpec(sink.name, op, sink.errorPolicy, null));
        requireUniqueNames(all);
        return new RunnablePipeline<>(List.copyOf(all), config);
    }

    /**
     * This pipeline as a {@code Flow.Publisher}: each subscription runs it anew, into a
     * {@link Sink#toSubscriber} sink, so the subscriber's demand paces the whole pipeline and cancelling the
     * subscription finishes the run. Reactor, RxJava and Akka Streams subscribe to it as to any publisher.
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
        List<StageSpec> all = new ArrayList<>(stages.size() + 1);
        all.addAll(stages);
        all.add(new StageSpec(uniqueName(kind), op, ErrorPolicy.fail(), defaultLink()));
        return new Pipeline<>(List.copyOf(all), config);
    }

    private String uniqueName(String kind) {
        Set<String> used = new HashSet<>();
        for (StageSpec s : stages) {
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

    private StageSpec last() {
        return stages.get(stages.size() - 1);
    }

    private Pipeline<T> replaceLast(StageSpec spec) {
        List<StageSpec> all = new ArrayList<>(stages);
        all.set(all.size() - 1, spec);
        return new Pipeline<>(List.copyOf(all), config);
    }

    private static LinkSpec defaultLink() {
        return new LinkSpec(DEFAULT_CAPACITY, Overflow.BLOCK);
    }

    private static void requireConcurrency(int concurrency) {
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
        }
    }

    private static void requirePositive(Duration d, String argument) {
        Objects.requireNonNull(d, argument + " must not be null");
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(argument + " must be positive, got " + d);
        }
    }

    private static void requireUniqueNames(List<StageSpec> all) {
        Set<String> seen = new HashSet<>();
        for (StageSpec s : all) {
            if (!seen.add(s.name())) {
                throw new IllegalArgumentException("stage name '" + s.name() + "' is used twice; name stages apart"
                        + " with as(...) or Sink.named(...)");
            }
        }
    }

    static String requireName(String name, String argument) {
        Objects.requireNonNull(name, argument + " must not be null");
        if (name.isBlank()) {
            throw new IllegalArgumentException(argument + " must not be blank, got '" + name + "'");
        }
        return name;
    }
}
