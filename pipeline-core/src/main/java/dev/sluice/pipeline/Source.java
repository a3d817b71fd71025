package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.ChannelSource;
import dev.sluice.pipeline.internal.IterableSource;
import dev.sluice.pipeline.internal.PositionedSource;
import dev.sluice.pipeline.internal.PublisherSource;
import dev.sluice.pipeline.internal.SingleUseSource;
import dev.sluice.pipeline.internal.check.Require;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * Where a pipeline's items come from: a body that pushes items with a blocking {@link Emitter#emit}, run on the
 * source stage's own thread each time the pipeline runs.
 *
 * <pre>{@code
 * Source<Line> lines = emitter -> {
 *     try (var reader = Files.newBufferedReader(path)) {
 *         for (String l; (l = reader.readLine()) != null; ) {
 *             emitter.emit(Line.parse(l));          // waits while the pipeline is full
 *         }
 *     }
 * };
 * }</pre>
 *
 * <p>Returning from {@link #produce} ends the stream: the pipeline drains and completes. Throwing fails the run,
 * except while the run is being stopped or after downstream finished early, when any exception ends the source
 * cleanly. Cancellation arrives as an interrupt: blocking calls in the body should be interruptible, and an
 * {@link InterruptedException} should propagate.
 *
 * <p>The factories here give sources that can run any number of times, except those over an {@link Iterator} or
 * a {@link Stream}, which can run once (a second run fails with {@link IllegalStateException}).
 *
 * @param <T> the type of the items
 * @since 0.1
 */
@FunctionalInterface
public interface Source<T> {

    /**
     * Produces the items, pushing each with {@code emitter.emit}. Runs on the source stage's thread.
     *
     * @param emitter hands the items to the next stage, waiting while it is full; only for this run
     * @throws Exception any failure, which fails the run unless the run is being stopped or downstream has
     *     finished early; an {@link InterruptedException} from the emitter should be let through
     */
    void produce(Emitter<T> emitter) throws Exception;

    /**
     * {@code source} with every item tracked at its position: each item is emitted with
     * {@code tracker.track(position(item))}, so that {@code tracker.committable()} is where a restarted job
     * resumes, after the last item <em>finished</em>, not only delivered (a server stream's cursor, a queue's
     * sequence number). Items the source hands over during a graceful stop are refused and told
     * {@link Disposition#RELEASED} like any tracked item, to be replayed from the checkpoint.
     *
     * @param source the source, which may itself emit with acknowledgements (both are then told)
     * @param position the position of an item: increasing in the order the source emits
     * @param tracker the tracker of this run, whose next position is where the source starts
     * @return the tracked source
     * @param <T> the type of the items
     * @throws NullPointerException if an argument is null
     * @since 0.1
     */
    static <T> Source<T> tracked(Source<T> source, ToLongFunction<? super T> position, PositionTracker tracker) {
        Require.nonNull(source, "source");
        Require.nonNull(position, "position");
        Require.nonNull(tracker, "tracker");
        return new PositionedSource<>(source, position, tracker);
    }

    /**
     * The given items, in order. The array is copied.
     *
     * @param <T> the type of the items
     * @param items the items, none null
     * @return a source that can run any number of times, emitting the same items each time
     * @throws NullPointerException if {@code items} or any of its elements is {@code null}, naming its index
     */
    @SafeVarargs
    static <T> Source<T> of(T... items) {
        Require.nonNull(items, "items");
        List<T> copy = new ArrayList<>(items.length);
        for (int i = 0; i < items.length; i++) {
            copy.add(Require.nonNull(items[i], "items[" + i + "]"));
        }
        return new IterableSource<>(List.copyOf(copy), true);
    }

    /**
     * The items of an {@code Iterable}, in iteration order, with a fresh iterator for each run. A
     * {@link Collection} is taken to be in memory, and its items move downstream in groups; any other
     * {@code Iterable}'s iterator may block in {@code next()}, so each item is passed on as soon as it is there.
     *
     * @param <T> the type of the items
     * @param items iterated afresh by each run; not copied, so a run sees its contents at that time
     * @return a source that can run any number of times
     * @throws NullPointerException if {@code items} is {@code null}
     */
    static <T> Source<T> from(Iterable<? extends T> items) {
        Require.nonNull(items, "items");
        return new IterableSource<>(items, items instanceof Collection<?>);
    }

    /**
     * The remaining items of an iterator, which may block in {@code next()}. Can run once.
     *
     * @param <T> the type of the items
     * @param iterator the iterator, consumed by the first run
     * @return a source whose second run fails with {@link IllegalStateException}
     * @throws NullPointerException if {@code iterator} is {@code null}
     */
    static <T> Source<T> from(Iterator<? extends T> iterator) {
        Require.nonNull(iterator, "iterator");
        return new SingleUseSource<>(() -> iterator, "an iterator");
    }

    /**
     * The items of a stream, which is closed when the source ends. Can run once.
     *
     * @param <T> the type of the items
     * @param stream the stream, consumed and closed by the first run
     * @return a source whose second run fails with {@link IllegalStateException}
     * @throws NullPointerException if {@code stream} is {@code null}
     */
    static <T> Source<T> from(Stream<? extends T> stream) {
        Require.nonNull(stream, "stream");
        return new SingleUseSource<>(stream::iterator, "a stream", stream);
    }

    /**
     * An endless source: {@code supplier.get()} for each item until the run is stopped, cancelled, or finished by
     * a {@code take}. The supplier runs on the source thread; returning null fails the run.
     *
     * @param <T> the type of the items
     * @param supplier called once per item, on the source's thread; it should not block uninterruptibly
     * @return a source that can run any number of times and never ends by itself
     * @throws NullPointerException if {@code supplier} is {@code null}
     */
    static <T> Source<T> generate(Supplier<? extends T> supplier) {
        Require.nonNull(supplier, "supplier");
        return emitter -> {
            for (; ; ) {
                T item = supplier.get();
                if (item == null) {
                    throw new NullPointerException("the supplier of Source.generate returned null");
                }
                emitter.emit(item);
            }
        };
    }

    /**
     * The longs from {@code startInclusive} to {@code endExclusive}, in order.
     *
     * @param startInclusive the first item
     * @param endExclusive one past the last item; equal to {@code startInclusive} for an empty source
     * @return a source that can run any number of times
     * @throws IllegalArgumentException if {@code endExclusive < startInclusive}
     */
    static Source<Long> range(long startInclusive, long endExclusive) {
        Require.argument(
                endExclusive >= startInclusive,
                "endExclusive",
                "not be below startInclusive",
                "range [" + startInclusive + ", " + endExclusive + ")");
        return new IterableSource<>(
                () -> LongStream.range(startInclusive, endExclusive).boxed().iterator(), true);
    }

    /**
     * The items received from a channel until it is closed and drained; a failed channel fails the run. Several
     * runs, or other receivers, share the channel's items: each item goes to one of them. The source waits, on
     * its own thread, while the channel is empty; cancelling or stopping the run ends that wait. Items it has
     * received are delivered during a graceful stop. Not {@link #from(Iterable)}: that would iterate the
     * channel afresh per run, without the stop's hand-over.
     *
     * @param channel the channel to receive from; the source never closes or fails it
     * @param <T> the type of the items
     * @return a source that can run any number of times
     * @throws NullPointerException if {@code channel} is null
     * @since 0.1
     */
    static <T> Source<T> fromChannel(Channel<? extends T> channel) {
        Require.nonNull(channel, "channel");
        return new ChannelSource<>(channel);
    }

    /**
     * The items of a {@code Flow.Publisher}, subscribed to once per run, with backpressure: the source requests
     * {@code prefetch} items at first, then, each time half of that has been passed downstream, exactly as many
     * as were passed on. So no more than {@code prefetch} items are ever buffered between the publisher and the
     * pipeline. {@code onError} fails the run, after handing downstream the items signalled before it (a failing run
     * may still abandon them there); during a graceful stop it changes nothing. Cancelling or stopping the run
     * cancels the subscription. A graceful stop delivers every item the publisher signalled
     * before it, and those it signals after the cancel (Reactive Streams §2.8 allows them) until it has been
     * silent for 10 ms or has used up the demand it was granted; an item signalled later is not taken, and is
     * logged at WARN.
     *
     * @param <T> the type of the items
     * @param publisher subscribed to anew by each run
     * @param prefetch the most items requested and not yet passed downstream, from 1 to 2^30: each run buffers that
     *     many, so a value meant as "unbounded" ({@code Integer.MAX_VALUE}, {@code Long.MAX_VALUE}'s habit) is refused
     * @return a source that can run as many times as the publisher accepts subscribers
     * @throws NullPointerException if {@code publisher} is {@code null}
     * @throws IllegalArgumentException if {@code prefetch} is not between 1 and 2^30
     */
    static <T> Source<T> fromPublisher(Flow.Publisher<? extends T> publisher, int prefetch) {
        Require.nonNull(publisher, "publisher");
        Require.between(prefetch, 1, 1 << 30, "prefetch");
        return new PublisherSource<>(publisher, prefetch);
    }

    /**
     * {@link #fromPublisher(Flow.Publisher, int)} with a prefetch of 256.
     *
     * @param <T> the type of the items
     * @param publisher subscribed to anew by each run
     * @return a source that can run as many times as the publisher accepts subscribers
     * @throws NullPointerException if {@code publisher} is {@code null}
     */
    static <T> Source<T> fromPublisher(Flow.Publisher<? extends T> publisher) {
        return fromPublisher(publisher, 256);
    }
}
