package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.ChannelFailedException;
import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.Overflow;
import dev.sluice.pipeline.Source;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Flow;

/**
 * {@link Source#fromPublisher}: a Reactive Streams subscriber that buffers at most {@code prefetch} items and
 * re-requests exactly what the pipeline has taken.
 *
 * <p>The publisher's signals never block: {@code onNext} offers to a buffer that always has room, because the
 * demand outstanding plus the items buffered never exceed {@code prefetch}. The source thread takes from the
 * buffer, emits downstream (where it may wait: that is the backpressure), and once half of {@code prefetch} has
 * gone downstream requests that many again.
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
            int taken = 0;
            for (;;) {
                try {
                    subscriber.buffer.receiveMany(group, prefetch);
                } catch (ChannelFailedException e) {
                    throw subscriber.failure(e);
                } catch (ChannelClosedException end) {
                    completed = true;
                    return;
                }
                for (T item : group) {
                    emitter.emit(item);
                    if (++taken == replenishAt) {
                        subscriber.request(taken);
                        taken = 0;
                    }
                }
                group.clear();
            }
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
        private volatile Flow.Subscription subscription;
        private volatile boolean cancelled;

        BufferingSubscriber(int prefetch) {
            this.prefetch = prefetch;
            // onNext calls may come from different publisher threads, one at a time: several producers.
            this.buffer = BoundedChannel.create(prefetch, Overflow.FAIL, null, ChannelShape.MPSC);
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            if (s == null) {
                throw new NullPointerException("onSubscribe called with a null subscription (rule 2.13)");
            }
            if (subscription != null || cancelled) {
                s.cancel(); // rule 2.5: a second subscription, or one that arrives after we gave up
                return;
            }
            subscription = s;
            s.request(prefetch);
        }

        @Override
        public void onNext(T item) {
            if (item == null) {
                buffer.fail(new NullPointerException("the publisher signalled a null item (rule 2.13)"));
                cancel();
                return;
            }
            if (!buffer.trySend(item)) {
                buffer.fail(new IllegalStateException(
                        "the publisher signalled more items than requested (rule 1.1); prefetch " + prefetch));
                cancel();
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

        void request(long n) {
            Flow.Subscription s = subscription;
            if (s != null) {
                s.request(n);
            }
        }

        void cancel() {
            cancelled = true;
            Flow.Subscription s = subscription;
            if (s != null) {
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
