package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.SinkLogic;
import dev.sluice.pipeline.internal.SubscriberSink;
import dev.sluice.pipeline.internal.check.Nanos;
import dev.sluice.pipeline.internal.check.Require;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collector;
import java.util.stream.Collectors;

/**
 * Where a pipeline's items end, and what value a run produces. Immutable: each run opens the sink afresh on the
 * sink stage's own thread, so a sink can serve many runs (except {@link #toSubscriber}, which serves one).
 *
 * <p>A sink's function runs on one thread at a time, never concurrently with itself within a run. If it throws,
 * the sink's {@link ErrorPolicy} decides ({@link #onError}); the default fails the run.
 *
 * @param <T> the type of the items
 * @param <R> the type of the run's value
 * @since 0.1
 */
public final class Sink<T, R> {

    /** The longest wait of a timed send: a wait without end that still says what became of the item. */
    private static final java.time.Duration FOREVER = java.time.Duration.ofNanos(Nanos.FOREVER);

    final SinkLogic<T, R> logic;
    final String name;
    final ErrorPolicy errorPolicy;

    private Sink(SinkLogic<T, R> logic, String name, ErrorPolicy errorPolicy) {
        this.logic = logic;
        this.name = name;
        this.errorPolicy = errorPolicy;
    }

    /**
     * Calls {@code action} for each item; the value is the number of items the action completed.
     *
     * @param <T> the type of the items
     * @param action called on the sink stage's thread with each item, in arrival order
     * @return a sink that can serve any number of runs, each counting from zero
     * @throws NullPointerException if {@code action} is {@code null}
     */
    public static <T> Sink<T, Long> forEach(CheckedConsumer<? super T> action) {
        Require.nonNull(action, "action");
        return new Sink<>(
                context -> new SinkLogic.State<T, Long>() {
                    long count;

                    @Override
                    public boolean accept(T item) throws Exception {
                        action.accept(item);
                        count++;
                        return true;
                    }

                    @Override
                    public Long finish() {
                        return count;
                    }
                },
                "forEach",
                ErrorPolicy.fail());
    }

    /**
     * Calls {@code action} with groups of the items that are already waiting, up to {@code maxBatch} at a time,
     * without waiting for more: a slow action gets big groups, a fast one small ones. For fixed-size groups with a
     * time limit, use {@link Pipeline#batch} before the sink. The value is the number of items in groups the
     * action completed. A dead-letter policy receives the whole group. The list is not to be kept after the call.
     *
     * @param <T> the type of the items
     * @param maxBatch the most items in one group
     * @param action called on the sink stage's thread with each group, in arrival order
     * @return a sink that can serve any number of runs, each counting from zero
     * @throws NullPointerException if {@code action} is {@code null}
     * @throws IllegalArgumentException if {@code maxBatch < 1}
     */
    public static <T> Sink<T, Long> forEachBatch(int maxBatch, CheckedConsumer<? super List<T>> action) {
        Require.nonNull(action, "action");
        Require.atLeast(maxBatch, 1, "maxBatch");
        return new Sink<>(
                context -> new SinkLogic.State<T, Long>() {
                    long count;

                    @Override
                    public boolean accept(T item) throws Exception {
                        action.accept(List.of(item));
                        count++;
                        return true;
                    }

                    @Override
                    public int groupSize() {
                        return maxBatch;
                    }

                    @Override
                    public boolean acceptGroup(List<T> items) throws Exception {
                        action.accept(items);
                        count += items.size();
                        return true;
                    }

                    @Override
                    public Long finish() {
                        return count;
                    }
                },
                "forEachBatch",
                ErrorPolicy.fail());
    }

    /**
     * Collects the items with a {@link Collector}; a fresh container per run.
     *
     * @param <T> the type of the items
     * @param <A> the collector's accumulation type
     * @param <R> the type of the run's value
     * @param collector used on the sink stage's thread only, so it need not be concurrent
     * @return a sink whose value is the collector's finished result
     * @throws NullPointerException if {@code collector} is {@code null}
     */
    public static <T, A, R> Sink<T, R> collect(Collector<? super T, A, R> collector) {
        Require.nonNull(collector, "collector");
        Supplier<A> supplier = collector.supplier();
        BiConsumer<A, ? super T> accumulator = collector.accumulator();
        Function<A, R> finisher = collector.finisher();
        return new Sink<>(
                context -> new SinkLogic.State<T, R>() {
                    final A container = supplier.get();

                    @Override
                    public boolean accept(T item) {
                        accumulator.accept(container, item);
                        return true;
                    }

                    @Override
                    public R finish() {
                        return finisher.apply(container);
                    }
                },
                "collect",
                ErrorPolicy.fail());
    }

    /**
     * The items in a list, in arrival order.
     *
     * @param <T> the type of the items
     * @return a sink named {@code toList}, whose value is a new list per run
     */
    public static <T> Sink<T, List<T>> toList() {
        Sink<T, List<T>> list = collect(Collectors.<T>toList());
        return list.named("toList");
    }

    /**
     * Folds the items into a value, starting from {@code identity}; the value is the last accumulation.
     *
     * @param <T> the type of the items
     * @param <R> the type of the run's value
     * @param identity each run's starting value, and its value if no item arrives
     * @param accumulator combines the value so far with the next item, on the sink stage's thread
     * @return a sink whose value is the final accumulation
     * @throws NullPointerException if {@code accumulator} is {@code null}
     */
    public static <T, R> Sink<T, R> reduce(R identity, BiFunction<R, ? super T, R> accumulator) {
        Require.nonNull(accumulator, "accumulator");
        return new Sink<>(
                context -> new SinkLogic.State<T, R>() {
                    R value = identity;

                    @Override
                    public boolean accept(T item) {
                        value = accumulator.apply(value, item);
                        return true;
                    }

                    @Override
                    public R finish() {
                        return value;
                    }
                },
                "reduce",
                ErrorPolicy.fail());
    }

    /**
     * Counts the items.
     *
     * @param <T> the type of the items
     * @return a sink named {@code count}, whose value is the number of items it took in
     */
    public static <T> Sink<T, Long> count() {
        return Sink.<T>forEach(item -> {}).named("count");
    }

    /**
     * Sends the items into a channel, waiting while it is full; the value is the number sent (the channel took them:
     * under {@link Overflow#DROP_NEWEST} the items it discarded are not counted, under {@link Overflow#DROP_OLDEST}
     * the ones it discarded later are). When the run
     * completes the channel is closed; when it fails or is cancelled, the channel is failed with the cause, so its
     * receivers learn how the stream ended. If the channel is closed by someone else, the run finishes early.
     *
     * @param <T> the type of the items
     * @param channel receives the items; the sink closes or fails it when the run ends
     * @return a sink whose value is the number of items sent
     * @throws NullPointerException if {@code channel} is {@code null}
     */
    public static <T> Sink<T, Long> toChannel(Channel<? super T> channel) {
        Require.nonNull(channel, "channel");
        return new Sink<>(
                new SinkLogic<T, Long>() {
                    @Override
                    public State<T, Long> open(StageContext context) {
                        return new State<>() {
                            long count;

                            @Override
                            public boolean accept(T item) throws InterruptedException {
                                try {
                                    // Timed only to learn whether a DROP_NEWEST channel discarded it (not counted).
                                    if (channel.send(item, FOREVER)) {
                                        count++;
                                    }
                                } catch (ChannelFailedException e) {
                                    throw e;
                                } catch (ChannelClosedException closedByReceiver) {
                                    return false;
                                }
                                return true;
                            }

                            @Override
                            public Long finish() {
                                channel.close();
                                return count;
                            }

                            @Override
                            public void abort(Throwable cause) {
                                channel.fail(cause);
                            }
                        };
                    }

                    @Override
                    public void abandoned(Throwable cause) {
                        channel.fail(cause);
                    }
                },
                "toChannel",
                ErrorPolicy.fail());
    }

    /**
     * Delivers the items to a {@code Flow.Subscriber}, honouring its demand: the sink waits while the subscriber
     * has requested nothing, so the subscriber's pace holds back the whole pipeline. The subscriber gets
     * {@code onSubscribe} when the run starts, then {@code onNext}, then {@code onComplete}, or {@code onError}
     * with the failure (or a {@link java.util.concurrent.CancellationException}) if the run aborts. Cancelling
     * the subscription finishes the run early. All signals come from the sink stage's thread. Can run once.
     *
     * @param <T> the type of the items
     * @param subscriber subscribed once, by the first run
     * @return a sink whose value is the number of items delivered
     * @throws NullPointerException if {@code subscriber} is {@code null}
     */
    public static <T> Sink<T, Long> toSubscriber(Flow.Subscriber<? super T> subscriber) {
        Require.nonNull(subscriber, "subscriber");
        return new Sink<>(new SubscriberSink<>(subscriber), "toSubscriber", ErrorPolicy.fail());
    }

    /**
     * A sink of your own: {@code open} makes a fresh {@link Writer} for each run, on the sink stage's thread, and the
     * writer takes the items one by one and gives the run's value. This is how a module outside the core (a gRPC
     * client stream, a database writer) ends a pipeline with full control over the run's value and its abort. The
     * stage is named {@code sink} unless {@link #named} says otherwise; an exception thrown by {@link Writer#write}
     * is handled by the sink's {@link ErrorPolicy} (by default it fails the run).
     *
     * <p><b>Incubating:</b> this hook may change in a minor release.
     *
     * @param open makes one run's writer; runs on the sink stage's thread when the run reaches the sink, and may
     *     block (an exception it throws fails the run)
     * @param <T> the type of the items
     * @param <R> the type of the run's value
     * @return a sink that can serve any number of runs, one writer each
     * @throws NullPointerException if {@code open} is null
     * @since 0.1
     */
    public static <T, R> Sink<T, R> of(CheckedFunction<? super StageContext, ? extends Writer<T, R>> open) {
        Require.nonNull(open, "open");
        return new Sink<>(
                context -> {
                    Writer<T, R> writer = open.apply(context);
                    if (writer == null) {
                        throw new NullPointerException("the open function of Sink.of returned null");
                    }
                    return new SinkLogic.State<T, R>() {
                        @Override
                        public boolean accept(T item) throws Exception {
                            writer.write(item);
                            return true;
                        }

                        @Override
                        public int unconfirmed() {
                            return writer.unconfirmed();
                        }

                        @Override
                        public R finish() throws Exception {
                            return writer.complete();
                        }

                        @Override
                        public void abort(Throwable cause) {
                            writer.abort(cause);
                        }
                    };
                },
                "sink",
                ErrorPolicy.fail());
    }

    /**
     * One run's state of a sink made with {@link Sink#of}. Every method is called on the sink stage's thread, one at
     * a time: {@link #write} for each item in order, then {@link #complete} (the input ended) or {@link #abort} (the
     * run is failing, being cancelled, or passed its deadline), and {@code abort} also after a {@code complete} that
     * threw (it failed, or a cancel interrupted it), so that whatever the writer still holds is released in one
     * place. Not called concurrently, so an implementation needs no locking of its own for the calls themselves.
     *
     * <p><b>Incubating:</b> this hook may change in a minor release.
     *
     * @param <T> the type of the items
     * @param <R> the type of the run's value
     * @since 0.1
     */
    public interface Writer<T, R> {

        /**
         * Takes one item. May block, interruptibly: a run that is cancelled interrupts the sink's thread, and the
         * writer should let the {@link InterruptedException} propagate.
         *
         * @param item the next item, never null
         * @throws InterruptedException if the run is cancelled while the writer waits
         * @throws Exception handled by the sink's {@link ErrorPolicy}; by default it fails the run
         * @since 0.1
         */
        void write(T item) throws Exception;

        /**
         * How many of the items written last (those whose {@link #write} returned normally) are not yet done: held
         * in a buffer, or sent in a call whose outcome is still to come. A source's acknowledgement
         * ({@link Emitter#emit(Object, Acknowledgement)}) says {@link Disposition#PROCESSED} for an item only once
         * it is no longer counted here, or once {@link #complete} has returned; if the run ends otherwise, the items
         * still counted are {@link Disposition#RELEASED}, so a checkpoint never passes them. Read after each
         * {@code write}, on the sink's thread. The default, 0, says an item is done when its {@code write} returns.
         *
         * <p>When a {@code write} throws, the items the writer counted before it and no longer counts after it are
         * taken to have been lost with it (a call that failed with its items): the sink's {@link ErrorPolicy} handles
         * each of them, oldest first, as it handles the item whose write threw, so under {@code skip} they are
         * {@link Disposition#SKIPPED} and under {@code deadLetter} each is handed over. Under the default policy the
         * run fails and they are released. A writer that lost earlier items therefore stops counting them when it
         * throws; one that still has them (to send again) keeps counting them. Under a dead-letter policy, and for a
         * sink after {@code batch}, the sink keeps the items it counts until they are done.
         *
         * <p>Must not block: it is read on the sink's thread between items. It is read only then, so items that become
         * done while no input comes are acknowledged with the next item's write, or when {@code complete} returns.
         *
         * @return the number of the items written last that are not yet done, at most the number written
         * @since 0.1
         */
        default int unconfirmed() {
            return 0;
        }

        /**
         * The input has ended normally: finish the work and return the run's value. May block, interruptibly.
         *
         * @return the run's value ({@link PipelineResult#value()}); may be null
         * @throws Exception fails the run
         * @since 0.1
         */
        R complete() throws Exception;

        /**
         * The run is aborting: release what the writer holds (cancel a call, roll back). Called instead of
         * {@link #complete}, or after a {@code complete} that threw, which may have done part of its work first.
         * Must not block for long and should not throw; an exception it throws is attached to the run's failure as
         * suppressed. The default does nothing.
         *
         * @param cause why the run aborts: its failure, or a {@link java.util.concurrent.CancellationException}
         * @since 0.1
         */
        default void abort(Throwable cause) {}
    }

    /**
     * This sink with the given policy for items its function fails on.
     *
     * @param policy what to do with an item (or group) the sink's function throws for
     * @return a new sink, the same but for the policy; this one is unchanged
     * @throws NullPointerException if {@code policy} is {@code null}
     */
    public Sink<T, R> onError(ErrorPolicy policy) {
        return new Sink<>(logic, name, Require.nonNull(policy, "policy"));
    }

    /**
     * This sink under another stage name (the default is the factory's name, such as {@code forEach}), as
     * {@link Pipeline#named} names the other stages.
     *
     * @param stageName the sink stage's name, unique within the pipeline it completes
     * @return a new sink with that name; this one is unchanged
     * @throws NullPointerException if {@code stageName} is null
     * @throws IllegalArgumentException if {@code stageName} is blank
     * @since 0.1
     */
    public Sink<T, R> named(String stageName) {
        return new Sink<>(logic, Require.notBlank(stageName, "stageName"), errorPolicy);
    }

    @Override
    public String toString() {
        return "Sink[" + name + "]";
    }
}
