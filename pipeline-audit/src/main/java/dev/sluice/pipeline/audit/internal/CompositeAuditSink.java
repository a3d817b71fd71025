package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.AuditSink;
import java.util.List;

/** {@link AuditSink#composite}: every batch to every sink, the first failure thrown after all were tried. */
public final class CompositeAuditSink implements AuditSink {
    private final List<AuditSink> sinks;

    public CompositeAuditSink(List<AuditSink> sinks) {
        this.sinks = List.copyOf(sinks);
    }

    @Override
    public void write(List<AuditEvent> events) {
        RuntimeException first = null;
        for (AuditSink sink : sinks) {
            try {
                sink.write(events);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (AuditSink sink : sinks) {
            try {
                sink.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "CompositeAuditSink" + sinks;
    }
}
