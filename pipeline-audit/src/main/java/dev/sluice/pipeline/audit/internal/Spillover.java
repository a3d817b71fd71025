package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEvent;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where events go when the store will not take them: the spill file if there is one, else (or if it fails too) they are
 * dropped, counted and logged with their JSON so that nothing is lost silently. Thread-safe.
 */
public final class Spillover {
    // The writer's logger: what happens to events is the writer's story, configured in one place.
    private static final Logger log = LoggerFactory.getLogger("dev.sluice.pipeline.audit.AuditWriter");
    private static final long SPILL_LOCK_WAIT_MS = 1000;
    // A store's message may quote the whole refused row: enough to see why, not the event again.
    private static final int MAX_REASON_LENGTH = 2000;

    private final SpillFile spill; // null without a spill file
    private final WriterCounters counters;
    private final AtomicLong lastDropWarning = new AtomicLong(System.nanoTime() - TimeUnit.SECONDS.toNanos(2));

    public Spillover(SpillFile spill, WriterCounters counters) {
        this.spill = spill;
        this.counters = counters;
    }

    /** The spill file, or null. */
    public SpillFile file() {
        return spill;
    }

    /** Appends to the spill file, waiting for it if a replay holds it; the writer threads' way. */
    public void spillOrDrop(List<AuditEvent> events, String reason) {
        if (spill == null) {
            drop(events, reason + " and no spill file is configured", true);
            return;
        }
        try {
            spill.append(events);
            counters.spilled.addAndGet(events.size());
            AuditSpillEvent.report(AuditSpillEvent.SPILLED, events.size(), reason, null, spill.path());
        } catch (IOException | RuntimeException e) {
            log.error("appending to audit spill file {} failed", spill.path(), e);
            drop(events, reason + " and so did the spill file", true);
        }
    }

    /**
     * Appends to the spill file from a thread other than the writer's, waiting at most a second for a replay to let go
     * of it, even if the thread is interrupted (the flag is kept); drops the events if that cannot be done.
     *
     * @return whether the events were spilled
     */
    public boolean storeAside(List<AuditEvent> events, String reason) {
        if (spill != null) {
            boolean interrupted = Thread.interrupted();
            try {
                if (spill.tryAppend(events, SPILL_LOCK_WAIT_MS)) {
                    counters.spilled.addAndGet(events.size());
                    AuditSpillEvent.report(AuditSpillEvent.SPILLED, events.size(), reason, null, spill.path());
                    return true;
                }
            } catch (IOException | RuntimeException e) {
                log.error("appending to audit spill file {} failed", spill.path(), e);
            } catch (InterruptedException e) {
                interrupted = true;
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        drop(events, reason, true);
        return false;
    }

    /**
     * Sets an event that the store refuses for good aside in the dead-letter file, counts it and warns (every time);
     * the replay's way. Needs a spill file.
     *
     * @return false if the dead-letter file failed (logged at ERROR): the event stays in the spill file
     */
    public boolean deadLetter(AuditEvent event, Throwable refusal) {
        DeadLetterFile file = spill.deadLetters();
        String reason = reason(refusal);
        String sqlState = Delivery.sqlState(refusal);
        try {
            file.add(event, reason, sqlState);
        } catch (IOException | RuntimeException e) {
            log.error(
                    "setting audit event {} aside in dead-letter file {} failed; it stays in the spill file",
                    event.eventId(),
                    file.path(),
                    e);
            return false;
        }
        counters.deadLettered.incrementAndGet();
        AuditSpillEvent.report(AuditSpillEvent.DEAD_LETTERED, 1, reason, sqlState, file.path());
        log.warn(
                "the audit store refuses event {} for good (SQLState {}: {}); it is set aside in {}",
                event.eventId(),
                sqlState,
                reason,
                file.path());
        return true;
    }

    /** The store's message, on one line and at most {@value #MAX_REASON_LENGTH} characters. */
    public static String reason(Throwable refusal) {
        return Text.oneLine(Text.truncate(String.valueOf(refusal.getMessage()), MAX_REASON_LENGTH));
    }

    /**
     * Counts events as dropped and says so: each with its JSON at ERROR when its data would otherwise be lost; one line
     * at WARN, at most once a second, for events refused at the door (their own line was logged when submitted).
     */
    public void drop(List<AuditEvent> events, String reason, boolean withJson) {
        counters.dropped.addAndGet(events.size());
        AuditSpillEvent.report(AuditSpillEvent.DROPPED, events.size(), reason, null, null);
        if (withJson) {
            log.error("{} audit events lost: {}; their JSON follows", events.size(), reason);
            for (AuditEvent e : events) {
                log.error("lost audit event: {}", e.toJson());
            }
            return;
        }
        long now = System.nanoTime();
        long last = lastDropWarning.get();
        if (now - last >= TimeUnit.SECONDS.toNanos(1) && lastDropWarning.compareAndSet(last, now)) {
            log.warn(
                    "audit events dropped: {} (event {}); {} dropped in all",
                    reason,
                    events.get(0).eventId(),
                    counters.dropped.get());
        }
    }

    /** Closes the spill file, if any. */
    public void close() {
        if (spill != null) {
            spill.close();
        }
    }
}
