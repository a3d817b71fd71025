package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.AuditSink;
import dev.sluice.pipeline.internal.check.Nanos;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The body of the thread that empties an audit writer's queue: takes what the queue holds in batches and writes each
 * to the sink, or to the spill file while the store is down. It never replays the spill file ({@link ReplayLoop} does,
 * on a thread of its own), so the queue keeps draining however long a replay takes.
 *
 * <h2>Each batch</h2>
 * <ul>
 *   <li>Store taken to be up: the batch goes to the sink through a {@link Delivery}: retried along the
 *       {@link RetryPolicy} while the store fails, split while it refuses. Events the store refuses for good go to the
 *       spill file, whose replay sets them aside in the dead-letter file (so that every set-aside event is counted
 *       once, as spilled and then dead-lettered). If the store still fails after the retries, what is left of the batch
 *       goes to the spill file and the store is taken to be down.</li>
 *   <li>Store taken to be down (only with a spill file): the batch goes straight to the spill file, sparing the store,
 *       until the replaying thread finds it up again.</li>
 * </ul>
 * Without a spill file, what cannot be written is dropped, counted and logged with its JSON. The queue may hold
 * {@link #WAKE_UP}, which is never written: {@code close()} puts it there so that a thread waiting on an empty queue
 * sees the close at once, and each thread that ends because of the close puts it back for the next one (a writer may
 * run several).
 *
 * <h2>Closing</h2>
 * After {@link WriterState#beginClose}, the thread writes what the queue holds and ends when it is empty. It never
 * waits out a retry delay that would pass the close deadline: it spills instead. An interrupt (the closer giving up)
 * ends it at its next wait; the batch it holds is spilled. The thread that runs it tells the {@link WriterState} when
 * it has ended.
 */
public final class DrainLoop implements Runnable {
    // The writer's logger: what happens to events is the writer's story, configured in one place.
    private static final Logger log = LoggerFactory.getLogger("dev.sluice.pipeline.audit.AuditWriter");

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
    private final int batchSize;
    private final RetryPolicy retry;
    private final Spillover spillover;
    private final SpillFile spill; // null without a spill file
    private final WriterCounters counters;
    private final WriterState state;
    private final Delivery delivery;

    public DrainLoop(
            BlockingQueue<AuditEvent> queue,
            AuditSink sink,
            int batchSize,
            RetryPolicy retry,
            Spillover spillover,
            WriterCounters counters,
            WriterState state) {
        this.queue = queue;
        this.batchSize = batchSize;
        this.retry = retry;
        this.spillover = spillover;
        this.spill = spillover.file();
        this.counters = counters;
        this.state = state;
        this.delivery = new Delivery(sink, retry, state, this::refused);
    }

    /** Takes whatever {@code queue} (a writer's) still holds, without the wake-up marker. */
    public static List<AuditEvent> takeLeftovers(BlockingQueue<AuditEvent> queue) {
        List<AuditEvent> left = new ArrayList<>();
        queue.drainTo(left);
        left.removeIf(e -> e == WAKE_UP);
        return left;
    }

    @Override
    public void run() {
        List<AuditEvent> batch = new ArrayList<>(batchSize);
        try {
            for (; ; ) {
                // Checked before every wait, not only after an empty one: the wake-up marker may have been taken in
                // with the last batch, and waiting then would hold close() up for a whole idle period.
                if (state.closing() && queue.isEmpty()) {
                    if (state.lifecycle().draining() > 1) {
                        queue.offer(WAKE_UP); // for another draining thread that may wait on the empty queue
                    }
                    break;
                }
                AuditEvent first = queue.poll(WriterState.idleWaitNanos(), TimeUnit.NANOSECONDS);
                if (first == null || first == WAKE_UP) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, batchSize - 1);
                batch.removeIf(e -> e == WAKE_UP);
                deliver(batch);
                batch.clear();
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

    private void deliver(List<AuditEvent> batch) {
        if (spill != null && state.storeDown()) {
            spill(batch, "the audit store is down"); // spares the store until the replay finds it up
            return;
        }
        Delivery.Result r = delivery.deliver(batch);
        counters.written.addAndGet(r.written());
        if (r.failure() == null) {
            if (r.written() > 0 && state.storeUp()) {
                log.info("the audit store takes events again");
            }
            state.storeAnswered();
            return;
        }
        List<AuditEvent> rest = batch.subList(r.handled(), batch.size());
        storeFailed(r.failure(), rest.size());
        spill(rest, "the audit store failed");
    }

    /** An event the store refuses for good: to the spill file, whose replay sets it aside; or dropped without one. */
    private boolean refused(AuditEvent event, Throwable refusal) {
        if (spill != null) {
            log.debug(
                    "the audit store refuses event {} ({}); it goes to the spill file, whose replay sets it aside",
                    event.eventId(),
                    Spillover.reason(refusal));
            spill(List.of(event), "the audit store refused it");
        } else {
            spillover.drop(
                    List.of(event),
                    "the audit store refuses it for good (SQLState " + Delivery.sqlState(refusal) + ": "
                            + Spillover.reason(refusal) + ") and no spill file is configured",
                    true);
        }
        return true;
    }

    private void spill(List<AuditEvent> events, String reason) {
        spillover.spillOrDrop(events, reason);
        state.signal(); // the replaying thread has work
    }

    private void storeFailed(Throwable cause, int events) {
        if (spill != null) {
            state.storeFailed(Nanos.saturated(retry.maxDelay()));
        }
        String what = events + " events, after " + (retry.maxRetries() + 1) + " attempts";
        if (!state.firstFailureSinceAnswer()) {
            log.debug("the audit store still fails ({})", what, cause);
            return;
        }
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
}
