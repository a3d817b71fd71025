package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.ChannelFailedException;
import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.Overflow;
import dev.sluice.pipeline.Source;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Source#fromPublisher}: a Reactive Streams subscriber that buffers at most {@code prefetch} items and
 * re-requests exactly what the pipeline has taken.
 *
 * <p>The publisher's signals never block: {@code onNext} offers to a buffer that always has room, because the
 * demand outstanding plus the items buffered never exceed {@code prefetch}. The source thread makes every
 * Subscription call (the first request, the later ones, the cancel), so they never overlap; it takes from the
 * buffer, hands the items downstream (where it may wait: that is the backpressure), and once half of
 * {@code prefetch} has gone downstream requests exactly that many again.
 *
 * <h2>A graceful stop</h2>
 * The source cancels the subscription and hands over what is buffered. A publisher may still signal items it had
 * under way when it saw the cancel (Reactive Streams §2.8), never more than the demand outstanding: while some is,
 * the source goes on taking and handing them over until the publisher has been silent for
 * {@link #QUIET_AFTER_CANCEL}. Then it stops taking signals by closing the buffer, and hands over everything the
 * buffer admitted before the close (waiting for an item still landing). The close is the line: an item signalled
 * after it is not taken, and each such item is logged at WARN, since the publisher may count it as delivered. A
 * publisher's {@code onError} or {@code onComplete} during the stop changes nothing: the stop hands over what it
 * holds either way.
 */
public final class PublisherSource<T> implements Source<T> {
    private static final Logger log = LoggerFactory.getLogger(PublisherSource.class);
    /** After a stop's cancel, how long the publisher may be silent before the source stops taking its items. */
    static final Duration QUIET_AFTER_CANCEL = Duration.ofMillis(10);

    private final Flow.Publisher<? extends T> publisher;
    private final int prefetch;

    public PublisherSource(Flow.Publisher<? extends T> publisher, int prefetch) {
        this.publisher = publisher;
        this.prefetch = prefetch;
    }

    @Override
    public void produce(Emitter<T> emitter) throws Exception {
        BufferingSubscriber<T> subscriber =
                new BufferingSubscriber<>(prefetch, emitter.context().pipelineName());
        publisher.subscribe(subscriber);
        int replenishAt = Math.max(1, prefetch / 2);
        List<T> group = new ArrayList<>(Math.min(prefetch, 1024)); // grows to what one receive takes
        boolean settled = false; // the subscription needs no cancel: completed, or cancelled already
        long requested = 0; // items asked of the publisher so far
        long received = 0; // items taken out of the buffer so far
        try {
            // Every Subscription call comes from this thread, so they never overlap (rule 2.7).
            Flow.Subscription subscription = subscriber.awaitSubscription();
            if (subscription != null) {
                subscription.request(prefetch);
                requested = prefetch;
            } // else the publisher ended the stream without subscribing (rule 1.9 broken): the buffer says how
            int taken = 0;
            for (; ; ) {
                try {
                    subscriber.buffer.receiveMany(group, prefetch);
                } catch (ChannelFailedException e) {
                    throw subscriber.failure(e);
                } catch (ChannelClosedException end) {
                    Exception failure = subscriber.endedWith();
                    if (failure != null) {
                        throw failure;
                    }
                    settled = true; // completed: nothing to cancel
                    return;
                }
                received += group.size();
                // Received from the publisher: delivered even during a graceful stop.
                emitter.handOver(group);
                taken += group.size();
                group.clear();
                if (taken >= replenishAt) {
                    subscriber.subscription.request(taken); // exactly what went downstream
                    requested += taken;
                    taken = 0;
                }
            }
        } catch (InterruptedException e) {
            // Stopped (or aborted): nothing more is asked of the publisher. What it has sent is handed over (an abort
            // fails the link, and every hand-over below ends at once).
            group.clear(); // handed over already, or the run is aborting
            subscriber.cancel();
            settled = true;
            subscriber.buffer.drainTo(group, Integer.MAX_VALUE);
            received += group.size();
            handOver(emitter, group);
            // Items the publisher had under way when it saw the cancel may still come (rule 2.8), no more than the
            // demand outstanding: they are taken until that demand is met or the publisher has been quiet a while.
            while (requested - received > 0) {
                T item;
                try {
                    item = subscriber.buffer.receive(QUIET_AFTER_CANCEL);
                } catch (InterruptedException | ChannelClosedException stopWaiting) {
                    break; // interrupted again (an abort, a second stop), or the publisher ended the stream
                }
                if (item == null) {
                    break; // quiet
                }
                group.add(item);
                subscriber.buffer.drainTo(group, Integer.MAX_VALUE);
                received += group.size();
                handOver(emitter, group);
            }
            subscriber.stopTaking();
            subscriber.drainClosed(group);
            handOver(emitter, group);
            throw e;
        } finally {
            if (!settled) {
                subscriber.cancel();
            }
            subscriber.stopTakingQuietly();
        }
    }

    private static <T> void handOver(Emitter<T> emitter, List<T> group) throws InterruptedException {
        if (!group.isEmpty()) {
            emitter.handOver(group);
            group.clear();
        }
    }

    /** Receives the publisher's signals (serialised by the publisher, per Reactive Streams rule 1.3). */
    private static final class BufferingSubscriber<T> implements Flow.Subscriber<T> {
        /** The buffer takes signals. */
        private static final int OPEN = 0;
        /** The publisher ended the stream (onComplete, onError, or a broken rule): later signals are ignored. */
        private static final int ENDED_BY_PUBLISHER = 1;
        /** A graceful stop closed the buffer: an item signalled later is not taken, and said so. */
        private static final int STOPPED = 2;
        /** The run ended the subscription otherwise (it completed, aborted or failed): later items are ignored. */
        private static final int ABANDONED = 3;

        final BoundedChannel<T> buffer;
        private final int prefetch;
        private final String pipelineName;
        private final CountDownLatch subscribed = new CountDownLatch(1);
        private final AtomicBoolean cancelIssued = new AtomicBoolean();
        /** Who closed the buffer first; decides what becomes of later signals. */
        private final AtomicInteger state = new AtomicInteger(OPEN);

        volatile Flow.Subscription subscription;
        private volatile boolean cancelled;
        /** The publisher's onError, delivered after the items it had sent before it. */
        private volatile Throwable error;

        BufferingSubscriber(int prefetch, String pipelineName) {
            this.prefetch = prefetch;
            this.pipelineName = pipelineName;
            // onNext calls may come from different publisher threads, one at a time: several producers.
            this.buffer = BoundedChannel.create(prefetch, Overflow.FAIL, null, ChannelShape.MPSC);
        }

        /**
         * Waits for onSubscribe, or for the publisher to end the stream without one (an onError, an onComplete or
         * a broken rule before onSubscribe): then returns null, and the buffer is closed or failed.
         */
        Flow.Subscription awaitSubscription() throws InterruptedException {
            subscribed.await();
            return subscription;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            if (s == null) {
                throw new NullPointerException("onSubscribe called with a null subscription (rule 2.13)");
            }
            if (subscription != null) {
                s.cancel(); // rule 2.5: a second subscription
                return;
            }
            subscription = s;
            subscribed.countDown();
            // Written subscription, then read cancelled; cancel() writes cancelled, then reads subscription: one
            // of the two sees the other, so a subscription that arrives as the source gives up is cancelled.
            if (cancelled) {
                cancelOnce(s);
            }
        }

        @Override
        public void onNext(T item) {
            if (item == null) {
                NullPointerException why = new NullPointerException("the publisher signalled a null item (rule 2.13)");
                brokenRule(why);
                throw why; // rule 2.13: to the caller too
            }
            if (subscription == null) {
                brokenRule(new IllegalStateException("the publisher signalled an item before onSubscribe (rule 1.9)"));
                return;
            }
            boolean admitted;
            try {
                admitted = buffer.trySend(item);
            } catch (ChannelClosedException closed) {
                // Past the line (see the class comment); onNext must still return normally (rule 2.13).
                if (state.get() == STOPPED) {
                    log.warn(
                            "pipeline '{}': the publisher signalled an item after the graceful stop had cancelled its"
                                    + " subscription and stopped taking items; it was not taken",
                            pipelineName);
                }
                return;
            }
            if (!admitted) {
                brokenRule(new IllegalStateException(
                        "the publisher signalled more items than requested (rule 1.1); prefetch " + prefetch));
            }
        }

        @Override
        public void onError(Throwable t) {
            NullPointerException nullError =
                    t == null ? new NullPointerException("onError called with null (rule 2.13)") : null;
            error = t != null ? t : nullError;
            // The items signalled before the error go first; the source throws the error once they are through.
            if (state.compareAndSet(OPEN, ENDED_BY_PUBLISHER)) {
                buffer.close();
            }
            subscribed.countDown(); // a source still waiting for onSubscribe reads the end from the buffer
            if (nullError != null) {
                throw nullError; // rule 2.13: to the caller too
            }
        }

        @Override
        public void onComplete() {
            if (state.compareAndSet(OPEN, ENDED_BY_PUBLISHER)) {
                buffer.close();
            }
            subscribed.countDown();
        }

        /** A publisher that broke the protocol: the run fails at once, abandoning what is buffered. */
        private void brokenRule(RuntimeException why) {
            if (state.compareAndSet(OPEN, ENDED_BY_PUBLISHER)) {
                buffer.fail(why);
            }
            subscribed.countDown();
        }

        /** The graceful stop's line: from here on no item is taken. */
        void stopTaking() {
            if (state.compareAndSet(OPEN, STOPPED)) {
                buffer.close();
            }
        }

        /** However the source ended, later signals go nowhere (and are not reported). */
        void stopTakingQuietly() {
            if (state.compareAndSet(OPEN, ABANDONED)) {
                buffer.close();
            }
        }

        /**
         * After the buffer was closed: moves every item it admitted into {@code group}, waiting for one still
         * landing. A buffer failed by a broken rule gives nothing.
         */
        void drainClosed(List<T> group) {
            for (; ; ) {
                T item;
                try {
                    item = buffer.tryReceive();
                } catch (ChannelClosedException end) {
                    return;
                }
                if (item != null) {
                    group.add(item);
                }
            }
        }

        /** Gives up the subscription (from the source thread; see onSubscribe for the race with a late one). */
        void cancel() {
            cancelled = true;
            Flow.Subscription s = subscription;
            if (s != null) {
                cancelOnce(s);
            }
        }

        private void cancelOnce(Flow.Subscription s) {
            if (cancelIssued.compareAndSet(false, true)) {
                s.cancel();
            }
        }

        /** After the buffer's end: the publisher's error, if it signalled one, as the source throws it. */
        Exception endedWith() {
            Throwable t = error;
            if (t == null) {
                return null;
            }
            if (t instanceof Exception ex) {
                return ex;
            }
            if (t instanceof Error err) {
                throw err;
            }
            return new IllegalStateException(t);
        }

        /** A broken rule's exception, rather than the buffer's wrapper around it. */
        Exception failure(ChannelFailedException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception ex) {
                return ex;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            return e;
        }
    }
}
