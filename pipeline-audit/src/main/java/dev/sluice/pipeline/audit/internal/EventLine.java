package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEvent;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * The one log line of an audit event, as the .NET gRPC streaming guide's audit trail logs it ("Streaming operation X completed:
 * N items in D ms (Correlation: C)"), with the outcome, the rate, retries, resumes and the error added. Every value is
 * escaped onto one line; the main fields also go as SLF4J key-values, for structured log encoders.
 */
public final class EventLine {
    private EventLine() {}

    /** Logs {@code event} on {@code log}: INFO when it succeeded or is running, WARN otherwise. */
    public static void log(Logger log, AuditEvent event) {
        Level level = event.success() || event.running() ? Level.INFO : Level.WARN;
        if (!log.isEnabledForLevel(level)) {
            return;
        }
        log.atLevel(level)
                .addKeyValue("eventId", event.eventId())
                .addKeyValue("eventType", event.eventType())
                .addKeyValue("methodName", event.methodName())
                .addKeyValue("correlationId", event.correlationId())
                .addKeyValue("outcome", event.outcome())
                .addKeyValue("itemCount", event.itemCount())
                .addKeyValue("durationMs", event.durationMs())
                .log(format(event));
    }

    /** The line's text. */
    public static String format(AuditEvent e) {
        StringBuilder b = new StringBuilder(160)
                .append(Text.oneLine(e.eventType()))
                .append(' ')
                .append(Text.oneLine(e.methodName()))
                .append(' ');
        if (e.running()) {
            b.append("started at ").append(e.startedAt());
            if (e.itemCount() > 0) {
                b.append(", ").append(e.itemCount()).append(" items so far");
            }
        } else {
            b.append(Text.oneLine(e.outcome()).toLowerCase(java.util.Locale.ROOT))
                    .append(": ")
                    .append(e.itemCount())
                    .append(" items in ")
                    .append(e.durationMs())
                    .append(" ms (")
                    .append(String.format(java.util.Locale.ROOT, "%.2f", e.itemsPerSecond()))
                    .append(" items/s");
            if (e.retries() > 0) {
                b.append(", ").append(e.retries()).append(" retries");
            }
            if (e.resumes() > 0) {
                b.append(", ").append(e.resumes()).append(" resumes");
            }
            b.append(')');
        }
        b.append(" (correlation ").append(Text.oneLine(e.correlationId())).append(')');
        if (e.errorMessage() != null) {
            b.append(": ").append(Text.oneLine(e.errorMessage()));
        }
        return b.toString();
    }
}
