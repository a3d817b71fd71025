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

    /** Returns once the call is ready; waits (parks) while it is not. Interruptible. */
    public void awaitReady() throws InterruptedException {
        if (call.isReady()) {
            return; // the common case, without the lock
        }
        lock.lock();
        try {
            while (!call.isReady()) {
                if (!signalled) {
                    ready.await();
                }
                signalled = false;
            }
        } finally {
            lock.unlock();
        }
    }
}
