package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.StageContext;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * {@link dev.sluice.pipeline.Sink#toSubscriber}: delivers to a Reactive Streams subscriber at its pace.
 *
 * <p>Every signal to the subscriber comes from the sink stage's thread, so they are serialised (rule 1.3). The
 * subscription's methods may be called from any thread, including re-entrantly from {@code onNext}: they only
 * add to the demand, or set a flag, and wake the sink thread. A request unparks it (parking relies on the unpark
 * permit: a request that lands between the sink's check and its park makes the park return at once); a cancel,
 * or a bad request, interrupts it, because it may be waiting for input rather than demand, and the run then
 * finishes early (a bad request is answered with onError, rule 3.9).
 */
public final class SubscriberSink<T> implements SinkLogic<T, Long> {
    private final Flow.Subscriber<? super T> subscriber;
    private final AtomicBoolean used = new AtomicBoolean();

    public SubscriberSink(Flow.Subscriber<? super T> subscriber) {
        this.subscriber = subscriber;
    }

    @Override
    public State<T, Long> open(StageContext context) {
        if (!used.compareAndSet(false, true)) {
            throw new IllegalStateException("Sink.toSubscriber serves one run: its subscriber was already subscribed");
        }
        DemandSubscription subscription = new DemandSubscription(Thread.currentThread());
        subscriber.onSubscribe(subscription);
        return new Delivery(subscription);
    }

    @Override
    public void abandoned(Throwable cause) {
        if (used.compareAndSet(false, true)) {
            // Rule 1.9: onSubscribe before any other signal, even when the only other signal is the error.
            subscriber.onSubscribe(new DemandSubscription(Thread.currentThread()));
            subscriber.onError(cause);
        }
    }

    private final class Delivery implements State<T, Long> {
        private final DemandSubscription subscription;
        private long delivered;
        private boolean terminated;

        Delivery(DemandSubscription subscription) {
            this.subscription = subscription;
        }

        @Override
        public boolean accept(T item) throws InterruptedException {
            for (; ; ) {
                if (subscription.cancelled) {
                    return false;
                }
                if (subscription.badRequest) {
                    terminated = true;
                    subscription.cancelled = true;
                    subscriber.onError(new IllegalArgumentException(
                            "request(n) needs n > 0 (Reactive Streams rule 3.9), got " + subscription.badRequestValue));
                    return false;
                }
                long d = subscription.demand.get();
                if (d > 0) {
                    if (d != Long.MAX_VALUE) {
                        subscription.demand.decrementAndGet();
                    }
                    break;
                }
                LockSupport.park(this);
                if (subscription.cancelled || subscription.badRequest) {
                    Thread.interrupted(); // the wake-up of a cancel or a bad request, answered at the loop's top
                    continue;
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
            try {
                subscriber.onNext(item);
            } catch (RuntimeException | Error e) {
                // Rule 2.13 forbids it; treat the subscription as cancelled and fail the run with it.
                terminated = true;
                subscription.cancelled = true;
                throw e;
            }
            delivered++;
            return true;
        }

        @Override
        public boolean finishedEarly() {
            return subscription.cancelled || subscription.badRequest;
        }

        @Override
        public Long finish() {
            if (!terminated && subscription.badRequest && !subscription.cancelled) {
                terminated = true;
                subscription.cancelled = true;
                subscriber.onError(new IllegalArgumentException(
                        "request(n) needs n > 0 (Reactive Streams rule 3.9), got " + subscription.badRequestValue));
            } else if (!terminated && !subscription.cancelled) {
                terminated = true;
                subscriber.onComplete();
            }
            return delivered;
        }

        @Override
        public void abort(Throwable cause) {
            if (!terminated && !subscription.cancelled) {
                terminated = true;
                subscriber.onError(cause);
            }
        }
    }

    private static final class DemandSubscription implements Flow.Subscription {
        private final Thread sinkThread;
        final AtomicLong demand = new AtomicLong();
        volatile boolean cancelled;
        // Written before the volatile flag that publishes it.
        long badRequestValue;
        volatile boolean badRequest;

        DemandSubscription(Thread sinkThread) {
            this.sinkThread = sinkThread;
        }

        @Override
        public void request(long n) {
            if (cancelled) {
                return; // rule 3.6
            }
            if (n <= 0) {
                badRequestValue = n;
                badRequest = true;
                wakeSinkThread(); // it may be waiting for input, not for demand: it must answer with onError now
            } else {
                demand.getAndUpdate(d -> d + n < 0 ? Long.MAX_VALUE : d + n); // rule 3.17: saturate
                LockSupport.unpark(sinkThread);
            }
        }

        @Override
        public void cancel() {
            cancelled = true;
            wakeSinkThread();
        }

        /**
         * Ends the sink thread's wait, whichever it is: for demand (a park) or for input (a channel, which only an
         * interrupt ends). From the sink thread itself (a call inside onNext) the flag is enough: it is read as
         * soon as onNext returns.
         */
        private void wakeSinkThread() {
            if (Thread.currentThread() != sinkThread) {
                sinkThread.interrupt();
            }
        }
    }
}
