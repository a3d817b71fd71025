package dev.sluice.pipeline.audit;

import dev.sluice.pipeline.audit.internal.Lookups;
import dev.sluice.pipeline.internal.check.Require;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * An audit store in memory, for tests and for short-lived tools. Keeps one event per event ID with the same rules as
 * a database table (a finished event replaces the running one; a running event never replaces a finished one), and
 * answers the same lookups. Thread-safe: every method takes one short lock and never blocks otherwise. Nothing is
 * ever evicted, so the memory it holds grows with the events written. {@link #close()} does nothing: the events
 * stay readable.
 *
 * @since 0.1
 */
public final class InMemoryAuditSink implements AuditSink, AuditLookup {

    private final ReentrantLock lock = new ReentrantLock();

    private final Map<UUID, AuditEvent> events = new LinkedHashMap<>(); // guarded by lock; order of first write

    /**
     * An empty store.
     *
     * @since 0.1
     */
    public InMemoryAuditSink() {}

    @Override
    public void write(List<AuditEvent> batch) {
        Require.nonNull(batch, "events");
        lock.lock();
        try {
            for (AuditEvent e : batch) {
                Objects.requireNonNull(e, "events must not contain null");
                events.merge(e.eventId(), e, (old, now) -> now.running() && !old.running() ? old : now);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Every event held, in the order each ID was first written.
     *
     * @return a copy of the events held
     * @since 0.1
     */
    public List<AuditEvent> events() {
        lock.lock();
        try {
            return List.copyOf(events.values());
        } finally {
            lock.unlock();
        }
    }

    /**
     * How many events (distinct IDs) are held.
     *
     * @return the number of events held
     * @since 0.1
     */
    public int size() {
        lock.lock();
        try {
            return events.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<AuditEvent> findByCorrelationId(String correlationId) {
        Require.nonNull(correlationId, "correlationId");
        return find(e -> e.correlationId().equals(correlationId), Integer.MAX_VALUE);
    }

    @Override
    public List<AuditEvent> findByType(String eventType, Instant from, Instant to, int limit) {
        Lookups.checkTypeQuery(eventType, from, to, limit);
        return find(
                e -> e.eventType().equals(eventType)
                        && !e.startedAt().isBefore(from)
                        && e.startedAt().isBefore(to),
                limit);
    }

    private List<AuditEvent> find(Predicate<AuditEvent> match, int limit) {
        List<AuditEvent> found = new ArrayList<>();
        lock.lock();
        try {
            for (AuditEvent e : events.values()) {
                if (match.test(e)) {
                    found.add(e);
                }
            }
        } finally {
            lock.unlock();
        }
        found.sort(Comparator.comparing(AuditEvent::startedAt)); // stable: ties keep the order of writing
        return found.size() > limit ? List.copyOf(found.subList(0, limit)) : List.copyOf(found);
    }

    @Override
    public String toString() {
        return "InMemoryAuditSink[" + size() + " events]";
    }
}
