package dev.sluice.pipeline.audit;

import dev.sluice.pipeline.audit.internal.HostName;
import dev.sluice.pipeline.audit.internal.TraceIds;
import dev.sluice.pipeline.internal.check.Require;
import io.micrometer.tracing.Tracer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;

/**
 * Adds attributes to every event an {@link AuditWriter} takes: a tenant from the MDC, the host, the application's
 * version, the IDs of the trace a run belongs to. Given to {@link AuditWriter.Builder#enricher}; the attributes go into
 * the event's {@link AuditEvent#additionalData() additionalData}, and so into the {@code audit_data} JSON of its row,
 * its log line and its spill-file line.
 *
 * <pre>{@code
 * AuditWriter audit = AuditWriter.builder(store)
 *         .enricher(AuditEnricher.mdc("tenant"))
 *         .enricher(AuditEnricher.hostName())
 *         .enricher(AuditEnricher.applicationVersion("2.4.1"))
 *         .enricher(AuditEnricher.traceIds(tracer))
 *         .build();
 * }</pre>
 *
 * <h2>When and where it runs</h2>
 * On the thread that calls {@link AuditWriter#submit} or {@link AuditWriter#log}, before the event is queued, so it
 * reads that thread's context: for the events of an {@link AuditListener}, the run's own thread, which carries the
 * MDC of the code that started the run and, with {@code observationRegistry}, the run's observation (see
 * docs/context.md). It must be thread-safe and quick, and must not block: it runs for every event, on the caller's
 * time.
 *
 * <h2>What it may return, and what wins</h2>
 * A map of strings, numbers, booleans, lists and maps, as {@code additionalData} holds; null or empty adds nothing. A
 * key the event already has keeps the event's value, and so does a key an earlier enricher added: enrichers apply in
 * the order they were given, and never overwrite.
 *
 * <h2>When it fails</h2>
 * An enricher that throws, or returns what the event cannot hold (a value that is not JSON, data past
 * {@link AuditEvent#MAX_ADDITIONAL_DATA_LENGTH}), never loses the event: the event is written without that enricher's
 * attributes, with those of the others. The failure is counted ({@code sluice.audit.enrichment.failures}) and logged
 * at WARN, at most once a second.
 *
 * @since 0.1
 */
@FunctionalInterface
public interface AuditEnricher {

    /** The key of {@link #hostName()}: OpenTelemetry's name for the host attribute. */
    String HOST_NAME = "host.name";
    /** The key of {@link #applicationVersion}: OpenTelemetry's name for the version of the service. */
    String SERVICE_VERSION = "service.version";
    /** The key of the trace ID that {@link #traceIds} adds. */
    String TRACE_ID = "trace.id";
    /** The key of the span ID that {@link #traceIds} adds. */
    String SPAN_ID = "span.id";

    /**
     * The attributes to add to {@code event}, on the submitting thread.
     *
     * @param event the event as submitted
     * @return the attributes to add; null or empty for none
     */
    @Nullable
    Map<String, ?> attributes(AuditEvent event);

    /**
     * The values of {@code keys} in the submitting thread's SLF4J MDC, each under its own key; a key the MDC does not
     * hold is left out.
     *
     * @param keys the MDC keys, such as {@code "tenant"}; at least one
     * @return the enricher
     * @throws IllegalArgumentException if no key is given
     * @throws NullPointerException if a key is null
     * @since 0.1
     */
    static AuditEnricher mdc(String... keys) {
        Require.nonNull(keys, "keys");
        Require.argument(keys.length > 0, "keys", "name at least one MDC key", "none");
        List<String> names = List.of(keys); // refuses a null key
        return new AuditEnricher() {
            @Override
            public Map<String, ?> attributes(AuditEvent event) {
                Map<String, String> found = new LinkedHashMap<>();
                for (String key : names) {
                    String value = MDC.get(key);
                    if (value != null) {
                        found.put(key, value);
                    }
                }
                return found;
            }

            @Override
            public String toString() {
                return "AuditEnricher.mdc" + names;
            }
        };
    }

    /**
     * This machine's name under {@value #HOST_NAME}. The name is looked up once, when this is called (a lookup may
     * block on DNS), never per event: {@code InetAddress.getLocalHost().getHostName()}, or if that lookup fails the
     * {@code HOSTNAME} (or Windows' {@code COMPUTERNAME}) environment variable, or {@code "unknown"}.
     *
     * @return the enricher
     * @since 0.1
     */
    static AuditEnricher hostName() {
        return constant(HOST_NAME, HostName.lookUp());
    }

    /**
     * The application's version under {@value #SERVICE_VERSION}, so an audit row says which build wrote it.
     *
     * @param version the version, such as {@code "2.4.1"} or a commit; not blank
     * @return the enricher
     * @throws IllegalArgumentException if {@code version} is blank
     * @throws NullPointerException if {@code version} is null
     * @since 0.1
     */
    static AuditEnricher applicationVersion(String version) {
        Require.nonNull(version, "version");
        Require.argument(!version.isBlank(), "version", "not be blank", "'" + version + "'");
        return constant(SERVICE_VERSION, version);
    }

    /**
     * The trace and span IDs of the span current on the submitting thread, under {@value #TRACE_ID} and
     * {@value #SPAN_ID}, so an audit row leads to its trace; nothing when no span is current. For the events of an
     * {@link AuditListener} on a pipeline with {@code observationRegistry} (a registry the tracer handles), that span
     * is the run's.
     *
     * <p>Needs Micrometer Tracing ({@code io.micrometer:micrometer-tracing}) on the class or module path, which an
     * application that has a {@code Tracer} has; Sluice depends on it optionally and needs it for nothing else.
     *
     * @param tracer the application's tracer (Micrometer Tracing over OpenTelemetry or Brave)
     * @return the enricher
     * @throws NullPointerException if {@code tracer} is null
     * @since 0.1
     */
    @SuppressWarnings("exports") // Tracer is the caller's own: it requires micrometer.tracing to have one
    static AuditEnricher traceIds(Tracer tracer) {
        return new TraceIds(Require.nonNull(tracer, "tracer"));
    }

    private static AuditEnricher constant(String key, String value) {
        Map<String, String> attributes = Map.of(key, value);
        return new AuditEnricher() {
            @Override
            public Map<String, ?> attributes(AuditEvent event) {
                return attributes;
            }

            @Override
            public String toString() {
                return "AuditEnricher" + attributes;
            }
        };
    }
}
