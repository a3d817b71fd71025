package dev.sluice.pipeline.audit;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory store that a test can take down, make fail a number of times, or hold inside {@code write} (a hung
 * database), and that records every call.
 */
final class ControllableSink implements AuditSink {
    final InMemoryAuditSink store = new InMemoryAuditSink();
    final ConcurrentLinkedQueue<Integer> batchSizes = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Long> callNanos = new ConcurrentLinkedQueue<>();
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger failuresLeft = new AtomicInteger();
    final CountDownLatch entered = new CountDownLatch(1);
    volatile boolean down;
    volatile boolean closed;
    private volatile CountDownLatch gate;

    /** Every call fails until {@link #up()}. */
    ControllableSink down() {
        down = true;
        return this;
    }

    ControllableSink up() {
        down = false;
        return this;
    }

    /** The next {@code n} calls fail. */
    ControllableSink failTimes(int n) {
        failuresLeft.set(n);
        return this;
    }

    /** Calls wait inside {@code write}, deaf to interrupts, until {@link #release()} (or 60 s). */
    ControllableSink hold() {
        gate = new CountDownLatch(1);
        return this;
    }

    void release() {
        CountDownLatch g = gate;
        if (g != null) {
            g.countDown();
        }
    }

    @Override
    public void write(List<AuditEvent> events) {
        callNanos.add(System.nanoTime());
        calls.incrementAndGet();
        entered.countDown();
        CountDownLatch g = gate;
        if (g != null) {
            // Like a database call stuck on the network: deaf to interrupts until released.
            boolean interrupted = false;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (g.getCount() > 0 && end - System.nanoTime() > 0) {
                try {
                    g.await(end - System.nanoTime(), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (down) {
            throw new AuditStoreException("the store is down", null);
        }
        if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new AuditStoreException("a transient failure", null);
        }
        batchSizes.add(events.size());
        store.write(events);
    }

    @Override
    public void close() {
        closed = true;
    }
}
