package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEnricher;
import dev.sluice.pipeline.audit.AuditEvent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * A writer's enrichers applied to one event on the submitting thread: the event's own attributes first, then each
 * enricher's, in order, never overwriting a key. An enricher that throws, or whose attributes make the event
 * unstorable, adds nothing to that event; the failure is counted in {@link WriterCounters#enrichmentFailures} and
 * logged at WARN at most once a second. Thread-safe.
 */
public final class Enrichment {

    private static final long WARNING_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final List<AuditEnricher> enrichers;
    private final WriterCounters counters;
    private final Logger log;
    private final AtomicLong lastWarning = new AtomicLong(System.nanoTime() - WARNING_INTERVAL_NANOS);

    public Enrichment(List<AuditEnricher> enrichers, WriterCounters counters, Logger log) {
        this.enrichers = List.copyOf(enrichers);
        this.counters = counters;
        this.log = log;
    }

    /** {@code event} with the enrichers' attributes; {@code event} itself without enrichers. Never throws. */
    public AuditEvent apply(AuditEvent event) {
        if (enrichers.isEmpty()) {
            return event;
        }
        // Each enricher is asked once; what it gave is copied, so that a map that fails while read fails here.
        List<Map<String, Object>> given = new ArrayList<>(enrichers.size());
        List<AuditEnricher> givers = new ArrayList<>(enrichers.size());
        for (AuditEnricher enricher : enrichers) {
            try {
                Map<String, ?> attributes = enricher.attributes(event);
                if (attributes != null && !attributes.isEmpty()) {
                    given.add(new LinkedHashMap<>(attributes));
                    givers.add(enricher);
                }
            } catch (RuntimeException e) {
                failed(enricher, event, e);
            }
        }
        if (given.isEmpty()) {
            return event;
        }
        Map<String, Object> data = new LinkedHashMap<>(event.additionalData());
        given.forEach(attributes -> attributes.forEach(data::putIfAbsent));
        try {
            return with(event, data);
        } catch (RuntimeException e) {
            return oneByOne(event, given, givers); // some enricher's attributes cannot be stored: find whose
        }
    }

    /** Adds each enricher's attributes in turn, keeping only those with which the event can still be made. */
    private AuditEvent oneByOne(AuditEvent event, List<Map<String, Object>> given, List<AuditEnricher> givers) {
        AuditEvent enriched = event;
        for (int i = 0; i < given.size(); i++) {
            Map<String, Object> data = new LinkedHashMap<>(enriched.additionalData());
            given.get(i).forEach(data::putIfAbsent);
            try {
                enriched = with(enriched, data);
            } catch (RuntimeException e) {
                failed(givers.get(i), event, e);
            }
        }
        return enriched;
    }

    private static AuditEvent with(AuditEvent e, Map<String, Object> data) {
        return new AuditEvent(
                e.eventId(),
                e.eventType(),
                e.methodName(),
                e.correlationId(),
                e.startedAt(),
                e.endedAt(),
                e.durationMs(),
                e.itemCount(),
                e.itemsPerSecond(),
                e.success(),
                e.outcome(),
                e.errorMessage(),
                e.retries(),
                e.resumes(),
                data);
    }

    private void failed(AuditEnricher enricher, AuditEvent event, RuntimeException e) {
        long failures = counters.enrichmentFailures.incrementAndGet();
        long now = System.nanoTime();
        long last = lastWarning.get();
        if (now - last >= WARNING_INTERVAL_NANOS && lastWarning.compareAndSet(last, now)) {
            log.warn(
                    "audit enricher {} failed on event {}; the event is written without its attributes ({} enricher"
                            + " failures in all)",
                    enricher,
                    event.eventId(),
                    failures,
                    e);
        }
    }
}
