package dev.sluice.pipeline.grpc.internal;

import io.grpc.Status;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The hand-off between one call's inbound callbacks (responses of a bidirectional call on the client, requests of a
 * client-streaming or bidirectional call on the server) and the one thread that takes them.
 *
 * <p>The gRPC side ({@link #put}, {@link #complete}, {@link #fail}) never waits: the taker requests messages only
 * as it takes them, so the buffer holds at most the {@code capacity} it requested ahead; a message beyond that
 * breaks manual flow control and ends the buffer with INTERNAL. The lock is held for a few field updates only, and
 * the taker is signalled only while it waits. Messages that arrived before the end are taken before the end is
 * reported.
 */
public final class InboundBuffer<T> {

    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<T> items; // guarded by lock, as the three fields below
    private boolean ended;
    private Status failure;
    private boolean waiting;

    /** @param capacity the most messages the taker requests ahead */
    public InboundBuffer(int capacity) {
        this.capacity = capacity;
        this.items = new ArrayDeque<>(Math.min(capacity, 1024));
    }

    /** A message arrived (gRPC thread). Never waits. */
    public void put(T item) {
        lock.lock();
        try {
            if (ended) {
                return; // racing our own cancel: the call is over for us
            }
            if (items.size() >= capacity) {
                ended = true;
                failure = Status.INTERNAL.withDescription("the peer sent more messages than were requested (" + capacity
                        + " buffered); manual flow control was bypassed");
            } else {
                items.addLast(item);
            }
            wake();
        } finally {
            lock.unlock();
        }
    }

    /** The stream ended normally (gRPC thread). */
    public void complete() {
        end(null);
    }

    /** The stream failed (gRPC thread, or the taker on its own cancel). The first end wins. */
    public void fail(Status status) {
        end(status);
    }

    private void end(Status status) {
        lock.lock();
        try {
            if (!ended) {
                ended = true;
                failure = status;
                wake();
            }
        } finally {
            lock.unlock();
        }
    }

    private void wake() {
        if (waiting) {
            waiting = false;
            changed.signal();
        }
    }

    /**
     * Takes the next message, waiting while none has arrived and the stream has not ended.
     *
     * @return the message, or null once the stream has ended and every message before the end has been taken
     * @throws InterruptedException if the thread is interrupted while it waits
     */
    public T take() throws InterruptedException {
        lock.lock();
        try {
            for (; ; ) {
                T item = items.pollFirst();
                if (item != null || ended) {
                    return item;
                }
                waiting = true;
                try {
                    changed.await();
                } finally {
                    waiting = false;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** How the stream ended: null if it completed normally, or has not ended. */
    public Status failure() {
        lock.lock();
        try {
            return failure;
        } finally {
            lock.unlock();
        }
    }

    /** Messages waiting to be taken (for tests and bounds). */
    public int size() {
        lock.lock();
        try {
            return items.size();
        } finally {
            lock.unlock();
        }
    }
}
