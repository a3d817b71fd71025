package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.internal.check.Require;
import io.grpc.Status;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The hand-off between one gRPC call's callbacks and the source's stage thread: the messages received and not yet
 * taken, then how the call ended.
 *
 * <p>The gRPC side ({@link #put}, {@link #complete}, {@link #fail}) never waits for room: the source requests
 * messages only as it takes them, so the buffer never holds more than the prefetch; a call that delivers more than
 * requested breaks that contract and is failed. The lock is held only for a few field updates, never across a
 * wait, so a gRPC callback is never held up for long. The stage thread ({@link #take}) waits on a condition,
 * interruptibly, and is signalled only while it waits.
 *
 * <p>Messages that arrived before the end are taken before the end is reported: a failure after K messages still
 * delivers the K.
 *
 * <h2>Waking the stage thread: at once while the stream is quiet, in groups while it flows</h2>
 * Waking a parked virtual thread from a transport thread costs CPU on both sides, more than a small message takes
 * to decode; woken for every message of a fast stream, the stage thread takes CPU from the transport's own threads
 * (what {@code GrpcSourceBenchmark} measures, over Netty). So the buffer has two modes:
 * <ul>
 *   <li><b>Quiet</b> (at first, and after a pause): the first message wakes the stage thread, so a message that
 *       finds it waiting is never delayed.</li>
 *   <li><b>Flowing</b> (entered when the stage thread comes back for more and finds that several messages arrived
 *       while it was handing over the last ones; a stream in lock-step with its consumer never does): the stage
 *       thread is woken once {@code wakeThreshold} messages are buffered, or the call ends, and at the latest
 *       {@code maxDelayNanos} after it began to wait. A wait whose time is up before a group has come means the
 *       stream paused, or is too slow to gather groups: the stage thread takes what came, and the buffer is quiet
 *       again.</li>
 * </ul>
 * A message therefore waits at most {@code maxDelayNanos} longer than it would have; with {@code maxDelayNanos} 0
 * the buffer stays quiet, and wakes the stage thread for every message that arrives while it waits.
 *
 * <p>Idle time: the buffer records the last "activity" (the stage thread took messages, or requested more: a
 * message's arrival is noticed when it is taken, which spares the transport's thread a clock read per message);
 * {@link #take} with an idle timeout gives up once the buffer has been empty that long since the last activity.
 * While the stage thread waits on an empty buffer, demand is always outstanding (it re-requests what it took in
 * batches smaller than the prefetch), so this measures a silent server, never a slow consumer.
 */
final class ResponseBuffer<T> {

    /** {@link #take} result: the call completed normally and every message has been taken. */
    public static final int COMPLETED = -1;
    /** {@link #take} result: the call failed ({@link #failure()}) and every message before it has been taken. */
    public static final int FAILED = -2;
    /** {@link #take} result: nothing arrived for the idle timeout while messages were requested. */
    public static final int IDLE = -3;

    /** Yields of a virtual stage thread before it waits for a message, as the core's channels do. */
    private static final int YIELDS_BEFORE_WAITING = 2;

    private final int capacity;
    private final int wakeThreshold;
    private final long maxDelayNanos;
    /** Ends the long waits for a group; null to end every wait for a group by a timed wait of its own. */
    private final BatchWaitTimer timer;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<T> items;
    // All fields below are guarded by lock, but for the two marked otherwise.
    /**
     * What the stage thread waits for; {@code NOTHING} once it has been signalled, so that one wait gets one signal
     * (later messages of a group need not signal again).
     */
    private Wait waitingFor = Wait.NOTHING;
    /** Messages have been flowing: the stage thread's next wait is for a group. */
    private boolean flowing;
    /** The {@link BatchWaitTimer} is watching this buffer. */
    private boolean watched;
    /**
     * When the current wait for a group is up, on {@link System#nanoTime}'s scale; 0 while there is none. Written
     * under the lock, read by the timer without it, so that its ticks do not contend with the transport's thread.
     */
    private volatile long groupDeadlineNanos;
    /** The timer's ticks in a row that found the stage thread not waiting for a group. Timer thread only. */
    private int ticksNotWaiting;

    private boolean ended;
    private Status failure;
    private long lastActivityNanos = System.nanoTime();

    /**
     * @param capacity the most messages requested ahead (the prefetch): a call that delivers more is failed
     * @param wakeThreshold while the stream flows, how many buffered messages wake the stage thread: at least 1,
     *     and at most what the call can deliver while the stage thread waits, or it waits {@code maxDelayNanos}
     * @param maxDelayNanos while the stream flows, the longest the stage thread waits for {@code wakeThreshold}
     *     messages; 0 to wake it for every message
     * @param timer the timer that ends waits for a group of at least two of its ticks, held by the caller for as long
     *     as it takes from this buffer; null to end them all by timed waits of their own
     */
    ResponseBuffer(int capacity, int wakeThreshold, long maxDelayNanos, BatchWaitTimer timer) {
        this.capacity = capacity;
        this.wakeThreshold = Require.between(wakeThreshold, 1, capacity, "wakeThreshold");
        this.maxDelayNanos = Require.atLeast(maxDelayNanos, 0L, "maxDelayNanos");
        this.timer = timer;
        this.items = new ArrayDeque<>(Math.min(capacity, 1024));
    }

    /** A message arrived (gRPC thread). Never waits. */
    public void put(T item) {
        lock.lock();
        try {
            if (ended) {
                return; // a message racing our own cancel: the call is over for us
            }
            if (items.size() >= capacity) {
                ended = true;
                failure = Status.INTERNAL.withDescription("the call delivered more messages than were requested ("
                        + capacity + " buffered); manual flow control was bypassed");
            } else {
                items.addLast(item);
            }
            if (waitIsOver()) {
                wake();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The call completed normally (gRPC thread). */
    public void complete() {
        end(null);
    }

    /** The call failed (gRPC thread), or was cancelled. The first ending wins. */
    public void fail(Status status) {
        end(status);
    }

    private void end(Status status) {
        lock.lock();
        try {
            if (!ended) {
                ended = true;
                failure = status;
            }
            if (waitingFor != Wait.NOTHING) {
                wake();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The stage thread requested more messages: demand is outstanding again from now. */
    public void requested() {
        lock.lock();
        try {
            lastActivityNanos = System.nanoTime();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Moves up to {@code max} buffered messages into {@code into}, waiting for at least one (stage thread only).
     *
     * <p>The steps: messages found waiting (more than one means the stream flows) are handed over at once; else the
     * end of the call is reported; else the stage thread waits (for a group while the stream flows, else for one
     * message, after a couple of yields on a virtual thread), bounded by the idle timeout, and looks again.
     *
     * @param idleTimeoutNanos the longest silence since the last activity; 0 for none
     * @return the number of messages moved (at least 1), or {@link #COMPLETED}, {@link #FAILED} or {@link #IDLE}
     * @throws InterruptedException if the stage thread is interrupted while waiting with nothing buffered;
     *     interrupted while messages wait for their group, it returns them instead, with its interrupt still set
     */
    public int take(List<T> into, int max, long idleTimeoutNanos) throws InterruptedException {
        lock.lock();
        try {
            noticeAFlow();
            int yields = 0;
            for (; ; ) {
                int n = moveLocked(into, max);
                if (n > 0) {
                    return handedOver(n, idleTimeoutNanos);
                }
                if (ended) {
                    return failure == null ? COMPLETED : FAILED;
                }
                boolean forGroup = flowing && maxDelayNanos > 0;
                if (!forGroup
                        && yields < YIELDS_BEFORE_WAITING
                        && Thread.currentThread().isVirtual()) {
                    yields++;
                    yieldLocked();
                    continue;
                }
                long now = forGroup || idleTimeoutNanos > 0 ? System.nanoTime() : 0L;
                long idleLeft = idleTimeoutNanos > 0 ? lastActivityNanos + idleTimeoutNanos - now : Long.MAX_VALUE;
                if (idleLeft <= 0) {
                    return IDLE;
                }
                try {
                    if (forGroup) {
                        awaitAGroup(now, idleLeft);
                    } else {
                        awaitAMessage(idleLeft);
                        continue;
                    }
                } catch (InterruptedException e) {
                    return handOverOnInterrupt(into, max, e);
                }
                n = moveLocked(into, max);
                if (n < wakeThreshold) {
                    flowing = false; // the time was up before a group came: too slow to gather, or paused
                }
                if (n > 0) {
                    return handedOver(n, idleTimeoutNanos);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Several messages arrived while the stage thread was handing over the last ones: the stream flows. (One may be
     * the answer to the last: a stream in lock-step with its consumer never has two.) Lock held.
     */
    private void noticeAFlow() {
        if (items.size() > 1) {
            flowing = true;
        }
    }

    /** {@code n} messages were moved: a sign of life, if an idle timeout is kept. Lock held. */
    private int handedOver(int n, long idleTimeoutNanos) {
        if (idleTimeoutNanos > 0) {
            lastActivityNanos = System.nanoTime();
        }
        return n;
    }

    /**
     * Lets the transport's threads, which are probably filling the buffer right now, run before the stage thread pays
     * for a park and a wake-up (a virtual thread yields its carrier, nothing more). Releases the lock meanwhile.
     */
    private void yieldLocked() {
        lock.unlock();
        try {
            Thread.yield();
        } finally {
            lock.lock();
        }
    }

    /**
     * Waits until a message has arrived or the call ended, at most {@code idleLeftNanos} ({@code Long.MAX_VALUE}:
     * untimed); a spurious wake-up returns too, and the caller looks again. Lock held.
     */
    private void awaitAMessage(long idleLeftNanos) throws InterruptedException {
        waitingFor = Wait.A_MESSAGE;
        try {
            if (idleLeftNanos == Long.MAX_VALUE) {
                changed.await();
            } else {
                changed.awaitNanos(idleLeftNanos);
            }
        } finally {
            waitingFor = Wait.NOTHING;
        }
    }

    /**
     * Waits until a group has arrived, the call ended, or the wait's time is up: {@code maxDelayNanos} from
     * {@code nowNanos}, or less if the idle timeout comes first. A long wait is ended by the shared timer; a short one,
     * or one the idle timeout cuts short, or any without a timer, by a timed wait of its own. Lock held.
     */
    private void awaitAGroup(long nowNanos, long idleLeftNanos) throws InterruptedException {
        try {
            if (timer != null && BatchWaitTimer.endsWaitsOf(maxDelayNanos) && idleLeftNanos > maxDelayNanos) {
                awaitAGroupOnTheTimer(nowNanos);
            } else {
                awaitAGroupTimed(Math.min(maxDelayNanos, idleLeftNanos));
            }
        } finally {
            waitingFor = Wait.NOTHING;
        }
    }

    /**
     * A wait for a group that the timer ends once its time is up (due a tick early, so that it ends within its last
     * tick); a spurious wake-up only makes it wait on. Lock held.
     */
    private void awaitAGroupOnTheTimer(long nowNanos) throws InterruptedException {
        long deadline = (nowNanos + maxDelayNanos - BatchWaitTimer.TICK_NANOS) | 1; // never 0, which means "none"
        groupDeadlineNanos = deadline;
        if (!watched) {
            watched = true;
            timer.watch(this);
        }
        try {
            do {
                waitingFor = Wait.A_GROUP;
                changed.await();
            } while (!groupCameOrCallEnded() && System.nanoTime() - deadline < 0);
        } finally {
            groupDeadlineNanos = 0;
        }
    }

    /** A wait for a group of its own: a spurious wake-up only makes it wait on. Lock held. */
    private void awaitAGroupTimed(long waitNanos) throws InterruptedException {
        long left = waitNanos;
        do {
            waitingFor = Wait.A_GROUP;
            left = changed.awaitNanos(left);
        } while (left > 0 && !groupCameOrCallEnded());
    }

    private boolean groupCameOrCallEnded() {
        return ended || items.size() >= wakeThreshold;
    }

    /**
     * Interrupted while waiting. With nothing buffered the interrupt is thrown; else (a graceful stop while messages
     * waited for their group) they have been received, so they are handed over and the interrupt stays set for the
     * caller to see after that. Lock held.
     */
    private int handOverOnInterrupt(List<T> into, int max, InterruptedException e) throws InterruptedException {
        if (items.isEmpty()) {
            throw e;
        }
        Thread.currentThread().interrupt();
        return moveLocked(into, max);
    }

    /** Whether the message just put or the end of the call ends the stage thread's wait. Lock held. */
    private boolean waitIsOver() {
        return switch (waitingFor) {
            case NOTHING -> false;
            case A_MESSAGE -> true;
            case A_GROUP -> groupCameOrCallEnded();
            case THE_END -> ended;
        };
    }

    /** Signals the waiting stage thread, once per wait. Lock held. */
    private void wake() {
        waitingFor = Wait.NOTHING;
        changed.signal();
    }

    /**
     * The {@link BatchWaitTimer}'s look at this buffer (its thread): ends a wait for a group whose time is up.
     *
     * @return whether the timer should keep watching: while the stage thread waits for a group, or did within the
     *     last {@value BatchWaitTimer#UNWATCH_AFTER_TICKS} ticks (a quiet or ended buffer no longer waits for one)
     */
    boolean tick(long nowNanos) {
        long deadline = groupDeadlineNanos;
        if (deadline != 0) {
            ticksNotWaiting = 0;
            if (nowNanos - deadline < 0) {
                return true; // waiting, and not yet due: no lock taken
            }
            lock.lock();
            try {
                long current = groupDeadlineNanos; // a later wait may have begun since the read above
                if (waitingFor == Wait.A_GROUP && current != 0 && nowNanos - current >= 0) {
                    wake();
                }
                return true;
            } finally {
                lock.unlock();
            }
        }
        if (++ticksNotWaiting <= BatchWaitTimer.UNWATCH_AFTER_TICKS) {
            return true;
        }
        lock.lock();
        try {
            ticksNotWaiting = 0;
            if (groupDeadlineNanos != 0) {
                return true; // began to wait meanwhile
            }
            watched = false; // the next wait for a group watches it again
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** What the stage thread is waiting for. */
    enum Wait {
        NOTHING,
        A_MESSAGE,
        A_GROUP,
        /** The end of a call it cancelled ({@link #awaitEndAfterCancel}): messages do not wake it. */
        THE_END
    }

    /** What the stage thread is waiting for right now (for tests; {@code NOTHING} once it has been signalled). */
    Wait currentWait() {
        lock.lock();
        try {
            return waitingFor;
        } finally {
            lock.unlock();
        }
    }

    /** Moves up to {@code max} buffered messages into {@code into}; returns how many. Lock held. */
    private int moveLocked(List<T> into, int max) {
        int n = 0;
        while (n < max && !items.isEmpty()) {
            into.add(items.pollFirst());
            n++;
        }
        return n;
    }

    /** The status the call failed with, once {@link #take} has returned {@link #FAILED}. */
    public Status failure() {
        lock.lock();
        try {
            return failure;
        } finally {
            lock.unlock();
        }
    }

    /**
     * After the stage thread cancelled the call: waits until gRPC ends it (a cancelled call always ends), at most
     * {@code timeoutNanos}, keeping the messages the transport delivers meanwhile: they were received too. An
     * interrupt does not cut the wait short and is still set afterwards. From then on, nothing more is accepted.
     *
     * @return whether the call ended within the time
     */
    public boolean awaitEndAfterCancel(long timeoutNanos) {
        boolean interrupted = Thread.interrupted();
        lock.lock();
        try {
            long left = timeoutNanos;
            while (!ended && left > 0) {
                waitingFor = Wait.THE_END;
                try {
                    left = changed.awaitNanos(left);
                } catch (InterruptedException e) {
                    interrupted = true;
                } finally {
                    waitingFor = Wait.NOTHING;
                }
            }
            boolean endedInTime = ended;
            ended = true;
            return endedInTime;
        } finally {
            lock.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Moves every buffered message into {@code into}, without waiting (stage thread only). */
    public void drainTo(List<T> into) {
        lock.lock();
        try {
            into.addAll(items);
            items.clear();
        } finally {
            lock.unlock();
        }
    }

    /** Ends the buffer from the stage thread's side (after it cancelled the call): later messages are dropped. */
    public void abandon() {
        end(Status.CANCELLED);
    }
}
