package dev.sluice.pipeline.audit;

import dev.sluice.pipeline.Outcome;
import dev.sluice.pipeline.PipelineListener;
import dev.sluice.pipeline.PipelineSnapshot;
import dev.sluice.pipeline.PipelineSummary;
import dev.sluice.pipeline.StageStats;
import dev.sluice.pipeline.internal.check.Require;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PipelineListener} that writes one audit event per pipeline run to an {@link AuditWriter}:
 *
 * <pre>{@code
 * Pipeline.from(source).pipelineName("users-export")
 *     .listener(AuditListener.to(writer))
 *     .to(sink)
 *     .run();
 * }</pre>
 *
 * <h2>The event</h2>
 * <ul>
 *   <li>type {@link AuditEvent#GRPC_STREAMING} if a stage recorded the attribute {@value #METHOD_ATTRIBUTE} (a gRPC
 *       source does), else {@link AuditEvent#PIPELINE_RUN};</li>
 *   <li>method name: the pipeline's name; correlation ID, start, duration, items (those the sink took in) and items
 *       per second: the run's; outcome: the run's {@link Outcome} name; success: {@link Outcome#isSuccess()}; error
 *       message: the failure's, or a word on the cancellation or deadline;</li>
 *   <li>retries: the calls made after the first, the attribute {@value #ATTEMPTS_ATTRIBUTE} (calls made) minus one;
 *       resumes: the attribute {@value #RESUMES_ATTRIBUTE} (calls that resumed the stream after a delivered item, so
 *       counted among the retries too); both 0 when absent;</li>
 *   <li>additional data: {@code attributes} (every attribute the stages recorded: numbers, booleans and text as they
 *       are, maps and collections element by element, anything else as its {@code toString()}), {@code stages} (each
 *       stage's name and counters) and, for a failed run, {@code failedStage}.</li>
 * </ul>
 * The event ID is the run's ID ({@link PipelineSummary#runId()}), so a run's running and finished events share it.
 *
 * <h2>Long runs</h2>
 * A run still going after {@link #startedRowAfter} (default {@value #DEFAULT_STARTED_ROW_AFTER_SECONDS} s; checked at
 * each progress callback, so at the listener's progress interval) also gets a running event, which its finished event
 * replaces when the run ends. So a process that dies in the middle of an hours-long run still leaves a row that says it
 * started. {@code startedRowAfter(Duration.ZERO)} writes it as every run starts.
 *
 * <h2>Threads and failure</h2>
 * Callbacks run on a thread of the run, one at a time, never on a stage thread. They never throw: a problem is logged. {@code onFinish} waits while
 * the writer's queue is full (with the writer's default policy), which delays the return of {@code run()}, never the
 * stages. One listener can serve any number of runs, concurrently too; it keeps a little state per run that has a
 * running event, until the run finishes.
 *
 * @since 0.1
 */
public final class AuditListener implements PipelineListener {

    private static final Logger log = LoggerFactory.getLogger(AuditListener.class);

    /** The summary attribute that names a gRPC stream's method, and makes the event a {@code gRPC:Streaming} one. */
    public static final String METHOD_ATTRIBUTE = "grpc.method";
    /** The summary attribute with the number of calls made: the event's retries are one less. */
    public static final String ATTEMPTS_ATTRIBUTE = "grpc.attempts";
    /** The summary attribute with the number of times a stream resumed after a failure. */
    public static final String RESUMES_ATTRIBUTE = "grpc.resumes";

    static final long DEFAULT_STARTED_ROW_AFTER_SECONDS = 10;
    private static final int MAX_ATTRIBUTE_DEPTH = 8;

    private final AuditWriter writer;
    private final Duration startedRowAfter;
    private final Set<UUID> withRunningEvent = ConcurrentHashMap.newKeySet();

    private AuditListener(AuditWriter writer, Duration startedRowAfter) {
        this.writer = writer;
        this.startedRowAfter = startedRowAfter;
    }

    /**
     * A listener that submits to {@code writer}, with a running event for runs longer than 10 s.
     *
     * @param writer the writer that takes the events; the listener never closes it
     * @return a listener that writes a running event for runs longer than 10 s
     * @since 0.1
     */
    public static AuditListener to(AuditWriter writer) {
        return new AuditListener(
                Require.nonNull(writer, "writer"), Duration.ofSeconds(DEFAULT_STARTED_ROW_AFTER_SECONDS));
    }

    /**
     * A listener like this one that writes a running event for runs still going after {@code threshold}.
     *
     * @param threshold how long a run goes before its running event is written; zero for at once
     * @return a new listener with that threshold
     * @since 0.1
     * @throws IllegalArgumentException if {@code threshold} is negative
     */
    public AuditListener startedRowAfter(Duration threshold) {
        Require.notNegative(threshold, "threshold");
        return new AuditListener(writer, threshold);
    }

    @Override
    public void onStart(PipelineSnapshot start) {
        if (startedRowAfter.isZero()) {
            writeRunning(start);
        }
    }

    @Override
    public void onProgress(PipelineSnapshot progress) {
        if (progress.elapsed().compareTo(startedRowAfter) >= 0) {
            writeRunning(progress);
        }
    }

    @Override
    public void onFinish(PipelineSummary summary) {
        try {
            UUID id = summary.runId();
            withRunningEvent.remove(id);
            writer.log(finished(id, summary));
        } catch (RuntimeException e) {
            log.error(
                    "the audit event of pipeline '{}' (correlation {}) could not be made",
                    summary.pipelineName(),
                    summary.correlationId(),
                    e);
        }
    }

    private void writeRunning(PipelineSnapshot s) {
        try {
            UUID id = s.runId();
            if (withRunningEvent.add(id)) {
                writer.log(running(id, s));
            }
        } catch (RuntimeException e) {
            log.error(
                    "the running audit event of pipeline '{}' (correlation {}) could not be made",
                    s.pipelineName(),
                    s.correlationId(),
                    e);
        }
    }

    private static AuditEvent running(UUID id, PipelineSnapshot s) {
        Map<String, Object> attributes = s.attributes();
        return withAttributesOrWithout(
                attributes,
                data -> new AuditEvent(
                        id,
                        eventType(attributes),
                        s.pipelineName(),
                        s.correlationId(),
                        s.startedAt(),
                        null,
                        s.elapsed().toMillis(),
                        s.itemCount(),
                        s.itemsPerSecond(),
                        false,
                        AuditEvent.RUNNING,
                        null,
                        retries(attributes),
                        count(attributes.get(RESUMES_ATTRIBUTE)),
                        additionalData(data, s.stages(), null)));
    }

    private static AuditEvent finished(UUID id, PipelineSummary s) {
        Map<String, Object> attributes = s.attributes();
        Instant end = s.startedAt().plus(s.duration());
        String error = s.errorMessage()
                .orElse(
                        switch (s.outcome()) {
                            case CANCELLED -> "the run was cancelled";
                            case TIMED_OUT -> "the run passed its deadline";
                            default -> null;
                        });
        return withAttributesOrWithout(
                attributes,
                data -> new AuditEvent(
                        id,
                        eventType(attributes),
                        s.pipelineName(),
                        s.correlationId(),
                        s.startedAt(),
                        end,
                        s.duration().toMillis(),
                        s.itemCount(),
                        s.itemsPerSecond(),
                        s.outcome().isSuccess(),
                        s.outcome().name(),
                        error,
                        retries(attributes),
                        count(attributes.get(RESUMES_ATTRIBUTE)),
                        additionalData(data, s.stages(), s.failedStage())));
    }

    /**
     * The event with the attributes in its additional data, or, if they make it too large or unwritable, with a note
     * instead: the run's record matters more than its details.
     */
    private static AuditEvent withAttributesOrWithout(
            Map<String, Object> attributes, java.util.function.Function<Map<String, Object>, AuditEvent> make) {
        try {
            return make.apply(attributes);
        } catch (IllegalArgumentException e) {
            log.warn("the pipeline's attributes cannot go into its audit event; recorded without them", e);
            return make.apply(Map.of("attributesRefused", String.valueOf(e.getMessage())));
        }
    }

    private static String eventType(Map<String, Object> attributes) {
        return attributes.containsKey(METHOD_ATTRIBUTE) ? AuditEvent.GRPC_STREAMING : AuditEvent.PIPELINE_RUN;
    }

    private static int retries(Map<String, Object> attributes) {
        return Math.max(0, count(attributes.get(ATTEMPTS_ATTRIBUTE)) - 1);
    }

    /** A non-negative int from a number or numeric text; 0 for anything else. */
    private static int count(Object value) {
        long n;
        if (value instanceof Number num) {
            n = num.longValue();
        } else if (value instanceof CharSequence text) {
            try {
                n = Long.parseLong(text.toString().trim());
            } catch (NumberFormatException e) {
                return 0;
            }
        } else {
            return 0;
        }
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, n));
    }

    private static Map<String, Object> additionalData(
            Map<String, Object> attributes, List<StageStats> stages, String failedStage) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("attributes", jsonable(new TreeMap<>(attributes), 0));
        List<Map<String, Object>> stageData = new ArrayList<>(stages.size());
        for (StageStats st : stages) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", st.name());
            m.put("itemsIn", st.itemsIn());
            m.put("itemsOut", st.itemsOut());
            m.put("skipped", st.skipped());
            m.put("dropped", st.dropped());
            m.put("failed", st.failed());
            stageData.add(m);
        }
        data.put("stages", stageData);
        if (failedStage != null) {
            data.put("failedStage", failedStage);
        }
        return data;
    }

    /** An attribute value in a form that is always JSON: stages may record objects of any class. */
    private static Object jsonable(Object value, int depth) {
        if (value == null || value instanceof Number || value instanceof Boolean || value instanceof String) {
            return value;
        }
        if (depth < MAX_ATTRIBUTE_DEPTH && value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> copy.put(String.valueOf(k), jsonable(v, depth + 1)));
            return copy;
        }
        if (depth < MAX_ATTRIBUTE_DEPTH && value instanceof Collection<?> collection) {
            List<Object> copy = new ArrayList<>(collection.size());
            collection.forEach(v -> copy.add(jsonable(v, depth + 1)));
            return copy;
        }
        if (value instanceof Enum<?> e) {
            return e.name();
        }
        return String.valueOf(value);
    }

    @Override
    public String toString() {
        return "AuditListener[" + writer + ", running event after " + startedRowAfter + "]";
    }
}
