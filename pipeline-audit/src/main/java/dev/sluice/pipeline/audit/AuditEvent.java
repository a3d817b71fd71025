package dev.sluice.pipeline.audit;

import dev.sluice.pipeline.audit.internal.AuditJson;
import dev.sluice.pipeline.audit.internal.Text;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * One entry of the audit trail: a stream or a pipeline run, what it did and how it ended. Immutable and thread-safe;
 * stored as one row of an audit table and as one line of a spill file, always through {@link #toJson()}.
 *
 * <p>An event is either <b>finished</b> ({@code endedAt} set, outcome such as {@code COMPLETED} or {@code FAILED}) or
 * <b>running</b> ({@code endedAt} null, outcome {@link #RUNNING}): a long run writes a running event when it starts and
 * later a finished event with the same {@code eventId}, which replaces it in every store. Writing the same event
 * twice is harmless: stores keep one row per {@code eventId}, and a running event never replaces a finished one.
 *
 * <h2>What the constructor does to the values</h2>
 * Every event that can be made can be stored, in every store: SQLite, PostgreSQL, and MariaDB or MySQL (with a
 * {@code DATETIME(3)} column in UTC and {@code utf8mb4} text). So:
 * <ul>
 *   <li>Times are kept to the millisecond (what every store can hold), so an event reads back equal. They must lie
 *       between {@link #EARLIEST_TIME} (1970-01-01T00:00:00Z) and {@link #LATEST_TIME} (9999-12-31T23:59:59.999Z):
 *       MariaDB's {@code DATETIME} ends with the year 9999 (PostgreSQL's {@code timestamptz} goes on to 294276, SQLite
 *       stores epoch milliseconds), and no operation a computer audits started before the epoch.</li>
 *   <li>The event type, method name, correlation ID and outcome are at most {@value #MAX_NAME_BYTES} bytes of UTF-8
 *       each, so that every index can hold them: PostgreSQL's btree holds 2,704 bytes an entry, and MariaDB's InnoDB
 *       3,072 bytes, which a {@code utf8mb4} {@code VARCHAR(512)} (four bytes a character) fits. A name of ASCII
 *       characters may be 512 characters long, one of Chinese characters about 170.</li>
 *   <li>{@code itemsPerSecond} is rounded to 2 decimals, half up.</li>
 *   <li>Text is made storable: U+0000 and unpaired surrogates become U+FFFD (PostgreSQL refuses the first; the second
 *       has no UTF-8 form). An error message longer than {@value #MAX_ERROR_MESSAGE_LENGTH} characters is cut and
 *       marked as cut.</li>
 *   <li>{@code additionalData} is copied deeply into its JSON form (see {@link #additionalData()}); null means
 *       empty. It is refused if its JSON is longer than {@value #MAX_ADDITIONAL_DATA_LENGTH} characters or nests
 *       deeper than {@value #MAX_ADDITIONAL_DATA_DEPTH} levels, so that every store can take every event.</li>
 * </ul>
 * Anything else out of range is refused with an {@link IllegalArgumentException} (or a {@link NullPointerException}
 * for a missing value) that names the argument, the value and the rule.
 *
 * @param eventId the event's identity: a store keeps one row per ID
 * @param eventType what kind of operation: {@link #GRPC_STREAMING}, {@link #PIPELINE_RUN}, or a type of your own
 * @param methodName the operation: the gRPC method, or the pipeline's name
 * @param correlationId the correlation ID that ties this event to log lines and calls
 * @param startedAt when the operation started
 * @param endedAt when it ended; null while it is running
 * @param durationMs how long it ran, in milliseconds (so far, for a running event)
 * @param itemCount items processed (so far, for a running event)
 * @param itemsPerSecond {@code itemCount} per second of the duration, rounded to 2 decimals
 * @param success whether it ended well; false while running
 * @param outcome how it ended: a pipeline's {@code Outcome} name, {@link #COMPLETED}, {@link #FAILED}, or
 *     {@link #RUNNING}
 * @param errorMessage what went wrong, or null
 * @param retries calls retried (for a gRPC stream), else 0
 * @param resumes times a stream resumed after a failure, else 0
 * @param additionalData further details, as JSON: an unmodifiable, insertion-ordered map of strings, numbers,
 *     booleans, nulls, lists and maps
 */
public record AuditEvent(
        UUID eventId,
        String eventType,
        String methodName,
        String correlationId,
        Instant startedAt,
        Instant endedAt,
        long durationMs,
        long itemCount,
        double itemsPerSecond,
        boolean success,
        String outcome,
        String errorMessage,
        int retries,
        int resumes,
        Map<String, Object> additionalData) {

    /** The event type of a gRPC stream, as the seed document's audit trail names it. */
    public static final String GRPC_STREAMING = "gRPC:Streaming";
    /** The event type of a pipeline run that reads no gRPC stream. */
    public static final String PIPELINE_RUN = "Pipeline:Run";

    /** The outcome of a running event, the only outcome an event without {@code endedAt} may have. */
    public static final String RUNNING = "RUNNING";
    /** The outcome of a finished event that succeeded (also a pipeline's {@code Outcome.COMPLETED}). */
    public static final String COMPLETED = "COMPLETED";
    /** The outcome of a finished event that failed (also a pipeline's {@code Outcome.FAILED}). */
    public static final String FAILED = "FAILED";

    /** The longest event type, method name, correlation ID or outcome, in bytes of UTF-8. */
    public static final int MAX_NAME_BYTES = 512;
    /** The earliest {@code startedAt} or {@code endedAt} an event may have. */
    public static final Instant EARLIEST_TIME = Instant.EPOCH;
    /** The latest {@code startedAt} or {@code endedAt} an event may have: the last millisecond of the year 9999. */
    public static final Instant LATEST_TIME = Instant.parse("9999-12-31T23:59:59.999Z");
    /** Longer error messages are cut to this many characters. */
    public static final int MAX_ERROR_MESSAGE_LENGTH = 8192;
    /** The longest {@code additionalData}, in characters of its JSON. */
    public static final int MAX_ADDITIONAL_DATA_LENGTH = 1 << 20;
    /**
     * How deep maps and lists may nest in {@code additionalData}, its own map being 1: far below the JSON parsers'
     * limits (SQLite's is 1000 for the whole event), so that no store can refuse an event that was made.
     */
    public static final int MAX_ADDITIONAL_DATA_DEPTH = 64;

    /**
     * Checks and normalises the values as the class comment says.
     *
     * @throws IllegalArgumentException or {@link NullPointerException} naming the argument, the value and the rule
     */
    public AuditEvent {
        Objects.requireNonNull(eventId, "eventId must not be null");
        eventType = requireName(eventType, "eventType");
        methodName = requireName(methodName, "methodName");
        correlationId = requireName(correlationId, "correlationId");
        outcome = requireName(outcome, "outcome");
        Objects.requireNonNull(startedAt, "startedAt must not be null");
        startedAt = requireStorableTime(startedAt.truncatedTo(ChronoUnit.MILLIS), "startedAt");
        if (endedAt != null) {
            endedAt = requireStorableTime(endedAt.truncatedTo(ChronoUnit.MILLIS), "endedAt");
            if (endedAt.isBefore(startedAt)) {
                throw new IllegalArgumentException(
                        "endedAt must not be before startedAt, got endedAt " + endedAt + " and startedAt " + startedAt);
            }
            if (outcome.equals(RUNNING)) {
                throw new IllegalArgumentException("outcome must not be " + RUNNING + " for an event with an endedAt ("
                        + endedAt + "); a running event has no end yet");
            }
        } else if (!outcome.equals(RUNNING)) {
            throw new IllegalArgumentException("outcome must be " + RUNNING + " for an event without endedAt, got '"
                    + outcome + "'; give a finished event its end time");
        }
        requireNotNegative(durationMs, "durationMs");
        requireNotNegative(itemCount, "itemCount");
        requireNotNegative(retries, "retries");
        requireNotNegative(resumes, "resumes");
        itemsPerSecond = roundRate(itemsPerSecond);
        errorMessage = Text.truncate(Text.storable(errorMessage), MAX_ERROR_MESSAGE_LENGTH);
        additionalData = additionalData == null
                ? Map.of()
                : AuditJson.normalise(additionalData, MAX_ADDITIONAL_DATA_LENGTH, MAX_ADDITIONAL_DATA_DEPTH);
    }

    /**
     * The finished event of a gRPC stream, with the arguments of the seed document's {@code LogStreamingAuditEvent}:
     * type {@link #GRPC_STREAMING}, a fresh random {@code eventId}, {@code endedAt} = {@code startTime + duration},
     * items per second = {@code itemCount} over the duration (0 for a zero duration), outcome {@link #COMPLETED} or
     * {@link #FAILED}, no retries or resumes. {@link AuditWriter#logStreaming} submits one in a single call.
     *
     * @param errorMessage null when there was no error
     * @param additionalData null or further details, as {@link #additionalData()} says
     */
    public static AuditEvent streaming(
            String methodName,
            String correlationId,
            Instant startTime,
            long itemCount,
            Duration duration,
            boolean success,
            String errorMessage,
            Map<String, ?> additionalData) {
        Objects.requireNonNull(startTime, "startTime must not be null");
        Objects.requireNonNull(duration, "duration must not be null");
        if (duration.isNegative()) {
            throw new IllegalArgumentException("duration must not be negative, got " + duration);
        }
        requireNotNegative(itemCount, "itemCount");
        requireStorableTime(startTime.truncatedTo(ChronoUnit.MILLIS), "startTime");
        if (duration.compareTo(Duration.between(startTime, LATEST_TIME)) > 0) {
            throw new IllegalArgumentException("duration must end by " + LATEST_TIME + " (AuditEvent.LATEST_TIME), got "
                    + duration + " from startTime " + startTime);
        }
        return new AuditEvent(
                UUID.randomUUID(),
                GRPC_STREAMING,
                methodName,
                correlationId,
                startTime,
                startTime.plus(duration),
                duration.toMillis(),
                itemCount,
                rate(itemCount, duration),
                success,
                success ? COMPLETED : FAILED,
                errorMessage,
                0,
                0,
                copyOf(additionalData));
    }

    /**
     * A running event: the row a long operation writes when it starts, so that a crash still leaves a trace. Complete
     * it with {@link #completed}; the finished event keeps this one's {@code eventId} and replaces it.
     */
    public static AuditEvent started(
            String eventType,
            String methodName,
            String correlationId,
            Instant startedAt,
            Map<String, ?> additionalData) {
        return new AuditEvent(
                UUID.randomUUID(),
                eventType,
                methodName,
                correlationId,
                startedAt,
                null,
                0,
                0,
                0.0,
                false,
                RUNNING,
                null,
                0,
                0,
                copyOf(additionalData));
    }

    /**
     * This event finished at {@code endedAt}: same ID, type, method, correlation ID, start and additional data; the
     * duration and items per second follow from the times and {@code itemCount}; outcome {@link #COMPLETED} or
     * {@link #FAILED}.
     *
     * @throws IllegalArgumentException if {@code endedAt} is before the start or {@code itemCount} is negative
     */
    public AuditEvent completed(Instant endedAt, long itemCount, boolean success, String errorMessage) {
        Objects.requireNonNull(endedAt, "endedAt must not be null");
        Duration d =
                Duration.between(startedAt, requireStorableTime(endedAt.truncatedTo(ChronoUnit.MILLIS), "endedAt"));
        if (d.isNegative()) {
            throw new IllegalArgumentException(
                    "endedAt must not be before startedAt, got endedAt " + endedAt + " and startedAt " + startedAt);
        }
        requireNotNegative(itemCount, "itemCount");
        return new AuditEvent(
                eventId,
                eventType,
                methodName,
                correlationId,
                startedAt,
                endedAt,
                d.toMillis(),
                itemCount,
                rate(itemCount, d),
                success,
                success ? COMPLETED : FAILED,
                errorMessage,
                retries,
                resumes,
                additionalData);
    }

    /** Whether this is a running event (no {@code endedAt} yet). */
    public boolean running() {
        return endedAt == null;
    }

    /** {@link #durationMs()} as a {@code Duration}. */
    public Duration duration() {
        return Duration.ofMillis(durationMs);
    }

    /** This event as one line of JSON: the {@code audit_data} of its row, and its line in a spill file. */
    public String toJson() {
        return AuditJson.toJson(this);
    }

    /**
     * The event that {@link #toJson()} wrote (properties it does not know are ignored).
     *
     * @throws IllegalArgumentException if {@code json} is not such an event; the message says why
     */
    public static AuditEvent fromJson(String json) {
        Objects.requireNonNull(json, "json must not be null");
        return AuditJson.fromJson(json);
    }

    /** {@code count} per second of {@code elapsed}, rounded to 2 decimals; 0 for a zero duration. */
    static double rate(long count, Duration elapsed) {
        if (elapsed.isNegative() || elapsed.isZero()) {
            return 0.0;
        }
        // Nanoseconds in a long end after 292 years, and an event may last 8,000.
        double nanos = elapsed.getSeconds() < MAX_SECONDS_IN_NANOS ? elapsed.toNanos() : elapsed.getSeconds() * 1e9;
        return roundRate(count * 1_000_000_000.0 / nanos);
    }

    private static final long MAX_SECONDS_IN_NANOS = Long.MAX_VALUE / 1_000_000_000L - 1;

    private static double roundRate(double perSecond) {
        if (!Double.isFinite(perSecond) || perSecond < 0) {
            throw new IllegalArgumentException("itemsPerSecond must be a finite number not below 0, got " + perSecond);
        }
        return BigDecimal.valueOf(perSecond).setScale(2, RoundingMode.HALF_UP).doubleValue();
    }

    private static String requireName(String value, String argument) {
        Objects.requireNonNull(value, () -> argument + " must not be null");
        if (value.isBlank()) {
            throw new IllegalArgumentException(argument + " must not be blank, got '" + Text.oneLine(value) + "'");
        }
        String storable = Text.storable(value);
        int bytes = Text.utf8Length(storable);
        if (bytes > MAX_NAME_BYTES) {
            throw new IllegalArgumentException(argument + " must be at most " + MAX_NAME_BYTES + " bytes of UTF-8 "
                    + "(AuditEvent.MAX_NAME_BYTES, what every audit store can index), got " + bytes + " bytes: '"
                    + Text.oneLine(Text.truncate(storable, 80)) + "'");
        }
        return storable;
    }

    private static Instant requireStorableTime(Instant t, String argument) {
        if (t.isBefore(EARLIEST_TIME) || t.isAfter(LATEST_TIME)) {
            throw new IllegalArgumentException(argument + " must be between " + EARLIEST_TIME + " and " + LATEST_TIME
                    + " (AuditEvent.EARLIEST_TIME and LATEST_TIME, what every audit store can hold), got " + t);
        }
        return t;
    }

    private static void requireNotNegative(long value, String argument) {
        if (value < 0) {
            throw new IllegalArgumentException(argument + " must not be negative, got " + value);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> copyOf(Map<String, ?> data) {
        return (Map<String, Object>) data; // the canonical constructor makes the real (deep) copy
    }
}
