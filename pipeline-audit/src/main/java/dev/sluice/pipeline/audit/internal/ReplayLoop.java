package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.AuditSink;
import dev.sluice.pipeline.internal.check.Nanos;
import java.io.IOException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The body of the thread that replays an audit writer's spill file into the store, beside the thread that drains the
 * queue ({@link DrainLoop}), so that new events go on being written (or spilled, while the store is down) however long
 * a replay takes.
 *
 * <h2>When it replays</h2>
 * Whenever the spill file holds events and the store may be tried: at once while the store is taken to be up (events
 * the store refused, a file left by an earlier writer), and once every max retry delay while it is taken to be down.
 * The first event of a replay goes alone, a cheap probe; when the store takes it, the store is up again and the
 * draining threads write to it directly while the replay goes on. A batch the store fails to take stops the replay
 * there (the next one goes on from that event, see {@link SpillFile#replay}) and the store is down again.
 *
 * <h2>What the store refuses</h2>
 * Each batch goes through a {@link Delivery} without retries (the next replay is the retry): a batch the store refuses
 * is split until each refused event stands alone, and that event is set aside in the dead-letter file
 * ({@link Spillover#deadLetter}), so that the replay goes on past it. A refused event is never replayed again.
 *
 * <h2>Closing</h2>
 * Once the draining threads have ended during a close, it replays one last time if the close deadline allows (the
 * store may take now what was spilled), then ends. It stops a replay between batches when the close deadline passes or
 * the closer interrupts it; the rest stays in the file for the next writer.
 */
public final class ReplayLoop implements Runnable {
    // The writer's logger: what happens to events is the writer's story, configured in one place.
    private static final Logger log = LoggerFactory.getLogger("dev.sluice.pipeline.audit.AuditWriter");

    private final SpillFile spill;
    private final int batchSize;
    private final RetryPolicy retry;
    private final WriterCounters counters;
    private final WriterState state;
    private final Delivery delivery;

    // This thread only.
    private long notBeforeNanos = System.nanoTime(); // after a failure to read the spill or write the dead letters
    private boolean stopped; // the last replay stopped for the close

    public ReplayLoop(
            AuditSink sink,
            int batchSize,
            RetryPolicy retry,
            Spillover spillover,
            WriterCounters counters,
            WriterState state) {
        this.spill = spillover.file();
        this.batchSize = batchSize;
        this.retry = retry;
        this.counters = counters;
        this.state = state;
        this.delivery = new Delivery(sink, retry.withoutRetries(), state, spillover::deadLetter);
    }

    @Override
    public void run() {
        try {
            for (; ; ) {
                if (lastRound()) {
                    if (spill.hasData() && state.beforeCloseDeadline()) {
                        replay(); // one last try, due or not: leave nothing in the file that the store can take now
                    }
                    return;
                }
                long due = nanosUntilDue();
                if (due == 0) {
                    replay();
                    if (stopped) {
                        return; // the close gave up or ran out of time: the rest is the next writer's
                    }
                    continue;
                }
                state.awaitChange(
                        Math.min(WriterState.idleWaitNanos(), due), () -> nanosUntilDue() > 0 && !lastRound());
            }
        } catch (InterruptedException e) {
            // The closer gave up waiting; the spill file keeps what was not replayed, for the next writer.
        } catch (Throwable t) {
            log.error(
                    "the audit writer's replaying thread failed; spill file {} keeps its events for the next writer",
                    spill.path(),
                    t);
        }
    }

    /** The draining threads have ended during a close: what the file holds now is all it will get. */
    private boolean lastRound() {
        return state.closing() && state.hasDrainEnded();
    }

    /** How long until a replay is due: 0 if it is now, {@link Long#MAX_VALUE} while the file is empty. */
    private long nanosUntilDue() {
        if (!spill.hasData()) {
            return Long.MAX_VALUE;
        }
        return Math.max(0, Math.max(state.nanosUntilProbe(), notBeforeNanos - System.nanoTime()));
    }

    private void replay() {
        stopped = false;
        long deadLetteredBefore = counters.deadLettered.get();
        try {
            SpillFile.Replay r = spill.replay(batchSize, this::take);
            long setAside = counters.deadLettered.get() - deadLetteredBefore;
            if (r.events() > 0 || r.unreadableLines() > 0) {
                log.info(
                        "replayed {} audit events from spill file {}{}{}",
                        r.events() - setAside,
                        spill.path(),
                        setAside > 0
                                ? "; " + setAside + " refused by the store, set aside in "
                                        + spill.deadLetters().path()
                                : "",
                        r.unreadableLines() > 0
                                ? "; " + r.unreadableLines() + " lines that are not whole events set aside too"
                                : "");
            }
            if (stopped) {
                log.info(
                        "the replay of spill file {} stopped as the writer closed; the next writer on it replays it",
                        spill.path());
            }
        } catch (IOException e) {
            notBeforeNanos = System.nanoTime() + Nanos.saturated(retry.maxDelay());
            log.error("replaying audit spill file {} failed; it is kept for a later replay", spill.path(), e);
        }
    }

    /** Takes a batch of the file into the store; returns how many, from the first, were written or set aside. */
    private int take(List<AuditEvent> events) {
        if (Thread.currentThread().isInterrupted() || state.pastCloseDeadline()) {
            stopped = true; // the closer gave up, or no time is left: between batches, leave the rest for later
            return 0;
        }
        Delivery.Result r = delivery.deliver(events);
        counters.replayed.addAndGet(r.written());
        Throwable failure = r.failure();
        if (failure == null) {
            if (state.storeUp()) {
                log.info("the audit store takes events again");
            }
        } else if (Delivery.refused(failure)) {
            // The store answered, but the dead-letter file failed (logged): try again later.
            notBeforeNanos = System.nanoTime() + Nanos.saturated(retry.maxDelay());
        } else {
            boolean wasDown = state.storeDown();
            state.storeFailed(Nanos.saturated(retry.maxDelay()));
            if (wasDown) {
                log.debug("the audit store still fails (replaying spill file {})", spill.path(), failure);
            } else {
                log.warn(
                        "the audit store failed (replaying spill file {}); events go to the spill file until it takes "
                                + "them again",
                        spill.path(),
                        failure);
            }
        }
        return r.handled();
    }
}
