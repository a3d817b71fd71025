package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.AuditSink;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The body of an audit writer's one thread: takes what the queue holds in batches, writes each to the sink, retries,
 * spills, and replays the spill file when the store takes events again.
 *
 * <h2>The states of the store, as this thread sees them</h2>
 * <ul>
 *   <li><b>Up</b> (the spill file is empty): each batch goes to the sink, retried along the {@link RetryPolicy}; a
 *       batch that still fails goes to the spill file, and the store is taken to be down.</li>
 *   <li><b>Down</b> (the spill file holds events): batches go straight to the spill file, in order, so that the queue
 *       keeps draining during an outage; once every max retry delay the file is replayed (its first event alone, as a
 *       cheap probe). When a replay gets through, the file is empty and the store is up again.</li>
 * </ul>
 * The queue may hold {@link #WAKE_UP}, which is never written: {@code close()} puts it there so that a thread waiting
 * on an empty queue sees the close at once.
 *
 * <h2>Closing</h2>
 * After {@link #beginClose}, the thread writes what the queue holds and ends when it is empty. It never waits out a
 * retry delay that would pass the close deadline: it spills instead. An interrupt (the closer giving up) ends it at its
 * next wait; the batch it holds is spilled.
 */
public final class DrainLoop implements Runnable {
    // The writer's logger: what happens to events is the writer's story, configured in one place.
    private static final Logger log = LoggerFactory.getLogger("dev.sluice.pipeline.audit.AuditWriter");
    private static final long IDLE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Put in the queue to wake the thread; never written. Compared by identity. */
    public static final AuditEvent WAKE_UP = new AuditEvent(
            new UUID(0, 0),
            "wake-up",
            "wake-up",
            "wake-up",
            Instant.EPOCH,
            null,
            0,
            0,
            0.0,
            false,
            AuditEvent.RUNNING,
            null,
            0,
            0,
            null);

    private final BlockingQueue<AuditEvent> queue;
    private final AuditSink sink;
    private final int batchSize;
    private final RetryPolicy retry;
    private final Spillover spillover;
    private final SpillFile spill; // null without a spill file
    private final WriterCounters counters;

    // Written by the closing thread, read by this one: closing is written last and read first.
    private volatile long closeDeadlineNanos;
    private volatile boolean closing;
    private final ReentrantLock pauseLock = new ReentrantLock();
    private final Condition closeSignal = pauseLock.newCondition();

    // This thread only.
    private boolean storeDown;
    private long nextReplayNanos;

    public DrainLoop(
            BlockingQueue<AuditEvent> queue,
            AuditSink sink,
            int batchSize,
            RetryPolicy retry,
            Spillover spillover,
            WriterCounters counters) {
        this.queue = queue;
        this.sink = sink;
        this.batchSize = batchSize;
        this.retry = retry;
        this.spillover = spillover;
        this.spill = spillover.file();
        this.counters = counters;
    }

    /** Asks the thread to finish: write what is queued, spilling rather than waiting past {@code deadlineNanos}. */
    public void beginClose(long deadlineNanos) {
        closeDeadlineNanos = deadlineNanos;
        closing = true;
        pauseLock.lock();
        try {
            closeSignal.signalAll();
        } finally {
            pauseLock.unlock();
        }
        queue.offer(WAKE_UP);
    }

    public boolean closing() {
        return closing;
    }

    /** Takes whatever the queue still holds, without the wake-up marker. */
    public List<AuditEvent> takeLeftovers() {
        List<AuditEvent> left = new ArrayList<>();
        queue.drainTo(left);
        left.removeIf(e -> e == WAKE_UP);
        return left;
    }

    @Override
    public void run() {
        List<AuditEvent> batch = new ArrayList<>(batchSize);
        try {
            replayIfDue(); // what an earlier writer left in the spill file
            for (; ; ) {
                // Checked before every wait, not only after an empty one: the wake-up marker may have been taken in
                // with the last batch, and waiting then would hold close() up for a whole idle period.
                if (closing && queue.isEmpty()) {
                    break;
                }
                AuditEvent first = queue.poll(idleWaitNanos(), TimeUnit.NANOSECONDS);
                if (first == null || first == WAKE_UP) {
                    if (closing && queue.isEmpty()) {
                        break;
                    }
                    replayIfDue();
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, batchSize - 1);
                batch.removeIf(e -> e == WAKE_UP);
                deliver(batch);
                batch.clear();
            }
            if (System.nanoTime() - closeDeadlineNanos < 0) {
                replay(); // one last try, due or not: leave nothing in the spill file that the store can take now
            }
        } catch (InterruptedException e) {
            // The closer gave up waiting; it takes what is still queued.
            if (!batch.isEmpty()) {
                spillover.spillOrDrop(batch, "the audit writer was closed while they were being written");
            }
        } catch (Throwable t) {
            log.error("the audit writer's thread failed; events still queued are spilled or dropped by close()", t);
            if (!batch.isEmpty()) {
                spillover.spillOrDrop(batch, "the audit writer's thread failed");
            }
        }
    }

    private long idleWaitNanos() {
        if (spill != null && spill.hasData()) {
            return Math.max(0, Math.min(IDLE_WAIT_NANOS, nextReplayNanos - System.nanoTime()));
        }
        return IDLE_WAIT_NANOS;
    }

    private void deliver(List<AuditEvent> batch) {
        if (spill != null && spill.hasData()) {
            replayIfDue();
            if (spill.hasData()) {
                spillover.spillOrDrop(batch, "the audit store is down"); // keeps the order; spares the store
                return;
            }
        }
        Throwable last = null;
        for (int attempt = 0; ; attempt++) {
            try {
                sink.write(batch);
                counters.written.addAndGet(batch.size());
                storeUp();
                return;
            } catch (RuntimeException | LinkageError | AssertionError e) {
                last = e;
            }
            if (attempt == retry.maxRetries() || !pause(retry.delayNanos(attempt + 1))) {
                break;
            }
        }
        storeFailed(last, batch.size() + " events, after " + (retry.maxRetries() + 1) + " attempts");
        spillover.spillOrDrop(batch, "the audit store failed");
    }

    /** Waits {@code nanos}; returns false at once if that would pass the close deadline, or when interrupted. */
    private boolean pause(long nanos) {
        long end = System.nanoTime() + nanos;
        pauseLock.lock();
        try {
            for (; ; ) {
                if (closing && end - closeDeadlineNanos > 0) {
                    return false;
                }
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return true;
                }
                closeSignal.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the closer gave up: the next poll ends the thread
            return false;
        } finally {
            pauseLock.unlock();
        }
    }

    private void replayIfDue() {
        if (!storeDown || System.nanoTime() - nextReplayNanos >= 0) {
            replay();
        }
    }

    private void replay() {
        if (spill == null || !spill.hasData()) {
            return;
        }
        try {
            SpillFile.Replay r = spill.replay(batchSize, events -> {
                if (Thread.currentThread().isInterrupted()) {
                    throw new ReplayInterrupted(); // the closer gave up: stop between batches
                }
                sink.write(events);
            });
            counters.replayed.addAndGet(r.events());
            storeUp();
            log.info(
                    "replayed {} audit events from spill file {}{}",
                    r.events(),
                    spill.path(),
                    r.unreadableLines() > 0 ? " (" + r.unreadableLines() + " unreadable lines skipped)" : "");
        } catch (ReplayInterrupted e) {
            log.info(
                    "the replay of spill file {} stopped as the writer closed; the next writer on it replays it",
                    spill.path());
        } catch (RuntimeException | LinkageError | AssertionError e) {
            storeFailed(e, "replaying spill file " + spill.path());
        } catch (IOException e) {
            nextReplayNanos = System.nanoTime() + retry.maxDelay().toNanos();
            log.error("reading audit spill file {} failed; it is kept for a later replay", spill.path(), e);
        }
    }

    private void storeUp() {
        if (storeDown) {
            storeDown = false;
            log.info("the audit store takes events again");
        }
    }

    private void storeFailed(Throwable cause, String what) {
        nextReplayNanos = System.nanoTime() + retry.maxDelay().toNanos();
        if (storeDown) {
            log.debug("the audit store still fails ({})", what, cause);
            return;
        }
        storeDown = true;
        if (spill != null) {
            log.warn(
                    "the audit store failed ({}); events go to spill file {} until it takes them again",
                    what,
                    spill.path(),
                    cause);
        } else {
            log.error(
                    "the audit store failed ({}), and there is no spill file: events that cannot be written are "
                            + "dropped",
                    what,
                    cause);
        }
    }

    /** Thrown into a replay to stop it; carries no stack. */
    private static final class ReplayInterrupted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ReplayInterrupted() {
            super("replay interrupted", null, false, false);
        }
    }
}
