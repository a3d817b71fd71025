package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.ChannelFailedException;
import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.Overflow;
import dev.sluice.pipeline.Source;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link Source#fromPublisher}: a Reactive Streams subscriber that buffers at most {@code prefetch} items and
 * re-requests exactly what the pipeline has taken.
 *
 * <p>The publisher's signals never block: {@code onNext} offers to a buffer that always has room, because the
 * demand outstanding plus the items buffered never exceed {@code prefetch}. The source thread makes every
 * Subscription call (the first request, the later ones, the cancel), so they never overlap; it takes from the
 * buffer, hands the items downstream (where it may wait: that is the backpressure), and once half of
 * {@code prefetch} has gone downstream requests exactly that many again. On a graceful stop it cancels the
 * subscription and hands over what the publisher had already sent.
 */
public final class PublisherSource<T> implements Source<T> {
    private final Flow.Publisher<? extends T> publisher;
    private final int prefetch;

    public PublisherSource(Flow.Publisher<? extends T> publisher, int prefetch) {
        this.publisher = publisher;
        this.prefetch = prefetch;
    }

    @Override
    public void produce(Emitter<T> emitter) throws Exception {
        BufferingSubscriber<T> subscriber = new BufferingSubscriber<>(prefetch);
        publisher.subscribe(subscriber);
        int replenishAt = Math.max(1, prefetch / 2);
        List<T> group = new ArrayList<>(prefetch);
        boolean completed = false;
        try {
            // Every Subscription call comes from this thread, so they never overlap (rule 2.7).
            subscriber.awaitSubscription().request(prefetch);
            int taken = 0;
            for (; ; ) {
                try {
                    subscriber.buffer.receiveMany(group, prefetch);
                } catch (ChannelFailedException e) {
                    throw subscriber.failure(e);
                } catch (ChannelClosedException end) {
                    completed = true;
                    return;
                }
                // Received from the publisher: delivered even during a graceful stop.
                SourceOutput.handOver(emitter, group);
                taken += group.size();
                group.clear();
                if (taken >= replenishAt) {
                    subscriber.subscription.request(taken); // exactly what went downstream
                    taken = 0;
                }
            }
        } catch (InterruptedException e) {
            // Stopped (or aborted): no more from the publisher; what it already sent is handed over (an abort fails
            // the link, and the hand-over ends at once).
            subscriber.cancel();
            completed = true;
            subscriber.buffer.drainTo(group, Integer.MAX_VALUE);
            if (!group.isEmpty()) {
                SourceOutput.handOver(emitter, group);
            }
            throw e;
        } finally {
            if (!completed) {
                subscriber.cancel();
            }
        }
    }

    /** Receives the publisher's signals (serialised by the publisher, per Reactive Streams rule 1.3). */
    private static final class BufferingSubscriber<T> implements Flow.Subscriber<T> {
        final BoundedChannel<T> buffer;
        private final int prefetch;
        private final CountDownLatch subscribed = new CountDownLatch(1);
        private final AtomicBoolean cancelIssued = new AtomicBoolean();
        volatile Flow.Subscription subscription;
        private volatile boolean cancelled;

        BufferingSubscriber(int prefetch) {
            this.prefetch = prefetch;
            // onNext calls may come from different publisher threads, one at a time: several producers.
            this.buffer = BoundedChannel.create(prefetch, Overflow.FAIL, null, ChannelShape.MPSC);
        }

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
            if (buffer.isClosedForSend()) {
                return; // already failed or cancelled: onNext must return normally (rule 2.13)
            }
            if (item == null) {
                buffer.fail(new NullPointerException("the publisher signalled a null item (rule 2.13)"));
                return;
            }
            if (!buffer.trySend(item)) {
                buffer.fail(new IllegalStateException(
                        "the publisher signalled more items than requested (rule 1.1); prefetch " + prefetch));
            }
        }

        @Override
        public void onError(Throwable t) {
            buffer.fail(t != null ? t : new NullPointerException("onError called with null (rule 2.13)"));
        }

        @Override
        public void onComplete() {
            buffer.close();
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

        /** The publisher's own error, rather than the buffer's wrapper around it. */
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
