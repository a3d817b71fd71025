package dev.sluice.pipeline.grpc.internal;

import io.grpc.stub.CallStreamObserver;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Lets one writer thread wait until a call is ready for more messages.
 *
 * <p>{@link #signal()} is the call's on-ready handler: it runs on a gRPC callback thread, so it only sets a flag
 * and wakes the writer, holding the lock for a few instructions. {@link #awaitReady()} re-checks
 * {@code isReady()} after every wake-up, because a ready signal can be spurious, or stale by the time the writer
 * runs. No wake-up is lost: the writer checks readiness and the flag under the lock that the signal takes, so a
 * signal either comes before the check (and the flag is seen) or after the writer waits (and wakes it).
 */
public final class ReadyGate {
    private final CallStreamObserver<?> call;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private boolean signalled; // guarded by lock
    private volatile boolean closed;

    public ReadyGate(CallStreamObserver<?> call) {
        this.call = call;
    }

    /** The on-ready handler. Never blocks for long. */
    public void signal() {
        lock.lock();
        try {
            signalled = true;
            ready.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The call has ended (a callback that ends it, on any thread): a writer waiting for readiness, which will never
     * come, is released.
     */
    public void close() {
        closed = true;
        signal();
    }

    /**
     * Returns once the call is ready, or has been {@linkplain #close() closed}; waits (parks) while neither.
     * Interruptible.
     *
     * @return true if the call is ready, false if it was closed
     */
    public boolean awaitReady() throws InterruptedException {
        if (call.isReady()) {
            return true; // the common case, without the lock
        }
        lock.lock();
        try {
            while (!call.isReady()) {
                if (closed) {
                    return false;
                }
                if (!signalled) {
                    ready.await();
                }
                signalled = false;
            }
            return true;
        } finally {
            lock.unlock();
        }
    }
}
