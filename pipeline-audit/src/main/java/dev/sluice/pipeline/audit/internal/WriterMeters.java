package dev.sluice.pipeline.audit.internal;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Collection;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * The audit writer's meters: {@value #EVENTS} (a function counter per outcome: written, spilled, dead-lettered,
 * dropped), {@value #ENRICHMENT_FAILURES} (a function counter) and {@value #QUEUE_SIZE} (a gauge), without base units, so that a Prometheus registry names them
 * {@code sluice_audit_events_total} and {@code sluice_audit_queue_size}. They read the writer's own counters when the
 * registry asks, so writing an event makes no Micrometer call. Removed from the registry when the writer closes, so
 * that a later writer can register its own (a registry keeps the first meter registered under a name and tags).
 */
public final class WriterMeters {
    /** The counter of events by outcome. */
    public static final String EVENTS = "sluice.audit.events";
    /** The counter of enricher failures. */
    public static final String ENRICHMENT_FAILURES = "sluice.audit.enrichment.failures";
    /** The gauge of events waiting in the queue. */
    public static final String QUEUE_SIZE = "sluice.audit.queue.size";

    private final MeterRegistry registry;
    private final List<Meter> meters;

    private WriterMeters(MeterRegistry registry, List<Meter> meters) {
        this.registry = registry;
        this.meters = meters;
    }

    /** Registers the meters; {@code counters} and {@code queue} must stay strongly reachable while they are used. */
    public static WriterMeters bind(MeterRegistry registry, WriterCounters counters, Collection<?> queue) {
        return new WriterMeters(
                registry,
                List.of(
                        events(
                                registry,
                                counters,
                                "written",
                                c -> c.written.get() + c.replayed.get(),
                                "Audit events stored, directly or by replay of the spill file"),
                        events(
                                registry,
                                counters,
                                "spilled",
                                c -> c.spilled.get(),
                                "Audit events put in the spill file while the store failed"),
                        events(
                                registry,
                                counters,
                                "dead-lettered",
                                c -> c.deadLettered.get(),
                                "Audit events the store refuses for good, set aside in the dead-letter file"),
                        events(
                                registry,
                                counters,
                                "dropped",
                                c -> c.dropped.get(),
                                "Audit events lost: refused when the queue was full or the writer closed, or stored nowhere"),
                        FunctionCounter.builder(ENRICHMENT_FAILURES, counters, c -> c.enrichmentFailures.get())
                                .description("Times an audit enricher failed; the event was written without its"
                                        + " attributes")
                                .register(registry),
                        Gauge.builder(QUEUE_SIZE, queue, Collection::size)
                                .description("Audit events waiting in the writer's queue")
                                .register(registry)));
    }

    private static Meter events(
            MeterRegistry registry,
            WriterCounters counters,
            String outcome,
            ToLongFunction<WriterCounters> count,
            String description) {
        return FunctionCounter.builder(EVENTS, counters, c -> count.applyAsLong(c))
                .tag("outcome", outcome)
                .description(description)
                .register(registry);
    }

    /** Removes the meters from the registry. */
    public void remove() {
        for (Meter m : meters) {
            registry.remove(m);
        }
    }
}
