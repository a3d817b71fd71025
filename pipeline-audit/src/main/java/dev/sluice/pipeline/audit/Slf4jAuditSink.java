package dev.sluice.pipeline.audit;

import dev.sluice.pipeline.audit.internal.EventLine;
import dev.sluice.pipeline.internal.check.Require;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each audit event to SLF4J as one line, as the .NET gRPC streaming guide's audit trail logs it:
 *
 * <pre>
 * gRPC:Streaming GetUsersOnlineStream completed: 500 items in 1234 ms (405.19 items/s) (correlation 5f0c…)
 * </pre>
 *
 * INFO for a running or successful event, WARN otherwise, with the error message at the end. Values are escaped so that
 * a line break inside one cannot forge another log line; the main fields also go as SLF4J key-values. Thread-safe;
 * never throws for a logging problem (that is the logging backend's business); never blocks beyond what the backend
 * does. Logging is not storage: a writer's {@link AuditWriter.Builder#logEvents} already logs each event once.
 *
 * @since 0.1
 */
public final class Slf4jAuditSink implements AuditSink {

    /** The logger name used by {@link #create()} and by a writer that logs its events: audit lines only. */
    public static final String DEFAULT_LOGGER = "dev.sluice.pipeline.audit.events";

    private final Logger log;

    private Slf4jAuditSink(Logger log) {
        this.log = log;
    }

    /**
     * A sink that logs to the logger {@value #DEFAULT_LOGGER}.
     *
     * @return a sink on the default logger
     * @since 0.1
     */
    public static Slf4jAuditSink create() {
        return new Slf4jAuditSink(LoggerFactory.getLogger(DEFAULT_LOGGER));
    }

    /**
     * A sink that logs to {@code logger}.
     *
     * @param logger the logger
     * @return a sink on that logger
     * @since 0.1
     */
    public static Slf4jAuditSink to(Logger logger) {
        return new Slf4jAuditSink(Require.nonNull(logger, "logger"));
    }

    @Override
    public void write(List<AuditEvent> events) {
        Require.nonNull(events, "events");
        for (AuditEvent e : events) {
            EventLine.log(log, Objects.requireNonNull(e, "events must not contain null"));
        }
    }

    @Override
    public String toString() {
        return "Slf4jAuditSink[" + log.getName() + "]";
    }
}
