package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEnricher;
import dev.sluice.pipeline.audit.AuditEvent;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import java.util.Map;

/**
 * {@link AuditEnricher#traceIds}: the only class of the module that touches Micrometer Tracing, which is an optional
 * dependency, so that it is loaded only by an application that asks for it.
 */
public final class TraceIds implements AuditEnricher {

    private final Tracer tracer;

    public TraceIds(Tracer tracer) {
        this.tracer = tracer;
    }

    @Override
    public Map<String, ?> attributes(AuditEvent event) {
        Span span = tracer.currentSpan();
        if (span == null) {
            return Map.of();
        }
        TraceContext context = span.context();
        return Map.of(TRACE_ID, context.traceId(), SPAN_ID, context.spanId());
    }

    @Override
    public String toString() {
        return "AuditEnricher.traceIds(" + tracer + ")";
    }
}
