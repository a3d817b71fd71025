package dev.sluice.pipeline.audit;

import dev.sluice.pipeline.audit.internal.AuditJson;
import dev.sluice.pipeline.audit.internal.Text;
import dev.sluice.pipeline.internal.check.Require;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

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
 * @since 0.1
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
        @Nullable String errorMessage,
        int retries,
        int resumes,
        Map<String, Object> additionalData) {

    /** The event type of a gRPC stream, as the .NET gRPC streaming guide's audit trail names it. */
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
        Require.nonNull(eventId, "eventId");
        eventType = requireName(eventType, "eventType");
        methodName = requireName(methodName, "methodName");
        correlationId = requireName(correlationId, "correlationId");
        outcome = requireName(outcome, "outcome");
        Require.nonNull(startedAt, "startedAt");
        startedAt = requireStorableTime(startedAt.truncatedTo(ChronoUnit.MILLIS), "startedAt");
        if (endedAt != null) {
            endedAt = requireStorableTime(endedAt.truncatedTo(ChronoUnit.MILLIS), "endedAt");
            Require.argument(
                    !endedAt.isBefore(startedAt),
                    "endedAt",
                    "not be before startedAt",
                    "endedAt " + endedAt + " and startedAt " + startedAt);
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
     * A builder for the event of a gRPC stream (type {@link #GRPC_STREAMING}): the record that .NET's
     * {@code LogStreamingAuditEvent} writes, by name rather than by position.
     *
     * <pre>{@code
     * AuditEvent event = AuditEvent.streaming("GetUsersOnlineStream", correlationId)
     *         .startedAt(startTime)
     *         .duration(Duration.between(startTime, Instant.now()))
     *         .itemCount(processedCount)
     *         .build();
     * }</pre>
     *
     * @param methodName the gRPC method
     * @param correlationId the correlation ID that ties the event to log lines and calls
     * @return a builder; see {@link Builder} for what each value defaults to
     * @since 0.1
     */
    public static Builder streaming(String methodName, String correlationId) {
        return new Builder(GRPC_STREAMING, methodName, correlationId);
    }

    /**
     * A builder for an event of any type.
     *
     * @param eventType what kind of operation: {@link #GRPC_STREAMING}, {@link #PIPELINE_RUN}, or a type of your own
     * @param methodName the operation: the gRPC method, the job's name
     * @param correlationId the correlation ID that ties the event to log lines and calls
     * @return a builder; see {@link Builder} for what each value defaults to
     * @since 0.1
     */
    public static Builder builder(String eventType, String methodName, String correlationId) {
        return new Builder(eventType, methodName, correlationId);
    }

    /**
     * A running event: the row a long operation writes when it starts, so that a crash still leaves a trace. Complete
     * it with {@link #completed}; the finished event keeps this one's {@code eventId} and replaces it.
     *
     * @param eventType what kind of operation
     * @param methodName the operation
     * @param correlationId the correlation ID
     * @param startedAt when it started
     * @param additionalData further details, or null
     * @return the running event
     * @throws IllegalArgumentException or {@link NullPointerException} for values the canonical constructor refuses
     * @since 0.1
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
     * @param endedAt when it ended
     * @param itemCount items processed
     * @param success whether it ended well
     * @param errorMessage what went wrong, or null
     * @return the finished event, with this one's ID
     * @since 0.1
     * @throws IllegalArgumentException if {@code endedAt} is before the start or {@code itemCount} is negative
     */
    public AuditEvent completed(Instant endedAt, long itemCount, boolean success, @Nullable String errorMessage) {
        Require.nonNull(endedAt, "endedAt");
        Duration d =
                Duration.between(startedAt, requireStorableTime(endedAt.truncatedTo(ChronoUnit.MILLIS), "endedAt"));
        Require.argument(
                !d.isNegative(),
                "endedAt",
                "not be before startedAt",
                "endedAt " + endedAt + " and startedAt " + startedAt);
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

    /**
     * Whether this is a running event (no {@code endedAt} yet).
     *
     * @return true while {@code endedAt} is null
     * @since 0.1
     */
    public boolean running() {
        return endedAt == null;
    }

    /**
     * {@link #durationMs()} as a {@code Duration}.
     *
     * @return the duration
     * @since 0.1
     */
    public Duration duration() {
        return Duration.ofMillis(durationMs);
    }

    /**
     * This event as one line of JSON: the {@code audit_data} of its row, and its line in a spill file.
     *
     * @return the JSON, on one line
     * @since 0.1
     */
    public String toJson() {
        return AuditJson.toJson(this);
    }

    /**
     * The event that {@link #toJson()} wrote (properties it does not know are ignored).
     *
     * @param json a line that {@link #toJson()} wrote
     * @return the event
     * @since 0.1
     * @throws IllegalArgumentException if {@code json} is not such an event; the message says why
     */
    public static AuditEvent fromJson(String json) {
        Require.nonNull(json, "json");
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
        Require.argument(
                Double.isFinite(perSecond) && perSecond >= 0,
                "itemsPerSecond",
                "be a finite number not below 0",
                perSecond);
        return BigDecimal.valueOf(perSecond).setScale(2, RoundingMode.HALF_UP).doubleValue();
    }

    private static String requireName(String value, String argument) {
        Require.nonNull(value, argument);
        if (value.isBlank()) { // the value is built only when it is shown
            Require.argument(false, argument, "not be blank", "'" + Text.oneLine(value) + "'");
        }
        String storable = Text.storable(value);
        int bytes = Text.utf8Length(storable);
        if (bytes > MAX_NAME_BYTES) { // the value is built only when it is shown
            Require.argument(
                    false,
                    argument,
                    "be at most " + MAX_NAME_BYTES
                            + " bytes of UTF-8 (AuditEvent.MAX_NAME_BYTES, what every audit store can index)",
                    bytes + " bytes: '" + Text.oneLine(Text.truncate(storable, 80)) + "'");
        }
        return storable;
    }

    private static Instant requireStorableTime(Instant t, String argument) {
        Require.argument(
                !t.isBefore(EARLIEST_TIME) && !t.isAfter(LATEST_TIME),
                argument,
                "be between " + EARLIEST_TIME + " and " + LATEST_TIME
                        + " (AuditEvent.EARLIEST_TIME and LATEST_TIME, what every audit store can hold)",
                t);
        return t;
    }

    private static void requireNotNegative(long value, String argument) {
        Require.argument(value >= 0, argument, "not be negative", value);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> copyOf(Map<String, ?> data) {
        return (Map<String, Object>) data; // the canonical constructor makes the real (deep) copy
    }
    /**
     * Collects an event's values by name; {@link #build()} checks them as the canonical constructor does. Defaults: a
     * fresh random {@code eventId}; no end (a running event) until {@link #endedAt} or {@link #duration} gives one;
     * 0 items, retries and resumes; success, so outcome {@link #COMPLETED} (or {@link #FAILED} after
     * {@code success(false)}); no error message; no additional data. A setter checks nothing but null where null is
     * not allowed; {@code build()} checks the rest. Not thread-safe; may build many events.
     *
     * @since 0.1
     */
    public static final class Builder {
        private final String eventType;
        private final String methodName;
        private final String correlationId;
        private UUID eventId;
        private Instant startedAt;
        private Instant endedAt;
        private Duration duration;
        private long itemCount;
        private boolean success = true;
        private String outcome;
        private @Nullable String errorMessage;
        private int retries;
        private int resumes;
        private Map<String, ?> additionalData;

        private Builder(String eventType, String methodName, String correlationId) {
            this.eventType = eventType;
            this.methodName = methodName;
            this.correlationId = correlationId;
        }

        /**
         * The event's identity, for an event that must replace one written before (default: a fresh random UUID).
         *
         * @param eventId the ID
         * @return this builder
         */
        public Builder eventId(UUID eventId) {
            this.eventId = Require.nonNull(eventId, "eventId");
            return this;
        }

        /**
         * When the operation started; required.
         *
         * @param startedAt the start
         * @return this builder
         */
        public Builder startedAt(Instant startedAt) {
            this.startedAt = Require.nonNull(startedAt, "startedAt");
            return this;
        }

        /**
         * When the operation ended, which makes a finished event; replaces a {@link #duration} given before.
         *
         * @param endedAt the end, not before the start
         * @return this builder
         */
        public Builder endedAt(Instant endedAt) {
            this.endedAt = Require.nonNull(endedAt, "endedAt");
            this.duration = null;
            return this;
        }

        /**
         * How long the operation ran, which makes a finished event ending at {@code startedAt + duration}; replaces an
         * {@link #endedAt} given before.
         *
         * @param duration the duration, not negative
         * @return this builder
         */
        public Builder duration(Duration duration) {
            this.duration = Require.notNegative(duration, "duration");
            this.endedAt = null;
            return this;
        }

        /**
         * Items processed (default 0); the items per second follow from it and the duration.
         *
         * @param itemCount the count, not negative
         * @return this builder
         */
        public Builder itemCount(long itemCount) {
            this.itemCount = itemCount;
            return this;
        }

        /**
         * Whether the operation ended well (default true), which makes the outcome {@link #COMPLETED} or
         * {@link #FAILED} unless {@link #outcome} says otherwise.
         *
         * @param success whether it succeeded
         * @return this builder
         */
        public Builder success(boolean success) {
            this.success = success;
            return this;
        }

        /**
         * How the operation ended, such as a pipeline's {@code Outcome} name (default {@link #COMPLETED} or
         * {@link #FAILED}, after {@link #success}).
         *
         * @param outcome the outcome
         * @return this builder
         */
        public Builder outcome(String outcome) {
            this.outcome = Require.nonNull(outcome, "outcome");
            return this;
        }

        /**
         * What went wrong (default none).
         *
         * @param errorMessage the message, or null for none
         * @return this builder
         */
        public Builder errorMessage(@Nullable String errorMessage) {
            this.errorMessage = errorMessage;
            return this;
        }

        /**
         * Calls retried, for a gRPC stream (default 0).
         *
         * @param retries the count, not negative
         * @return this builder
         */
        public Builder retries(int retries) {
            this.retries = retries;
            return this;
        }

        /**
         * Times a stream resumed after a failure (default 0).
         *
         * @param resumes the count, not negative
         * @return this builder
         */
        public Builder resumes(int resumes) {
            this.resumes = resumes;
            return this;
        }

        /**
         * Further details, stored as JSON as {@link AuditEvent#additionalData()} says (default none).
         *
         * @param additionalData the details, or null for none
         * @return this builder
         */
        public Builder additionalData(Map<String, ?> additionalData) {
            this.additionalData = additionalData;
            return this;
        }

        /**
         * The event: finished if an end or a duration was given (its duration and items per second computed from
         * them), else running (outcome {@link #RUNNING}, not a success).
         *
         * @return the event
         * @throws NullPointerException if no start was given
         * @throws IllegalArgumentException for values the canonical constructor refuses, or a duration that ends
         *     after {@link #LATEST_TIME}
         */
        public AuditEvent build() {
            Require.nonNull(startedAt, "startedAt");
            Instant end = endedAt;
            if (duration != null) {
                requireStorableTime(startedAt.truncatedTo(ChronoUnit.MILLIS), "startedAt");
                Require.argument(
                        duration.compareTo(Duration.between(startedAt, LATEST_TIME)) <= 0,
                        "duration",
                        "end by " + LATEST_TIME + " (AuditEvent.LATEST_TIME)",
                        duration + " from startedAt " + startedAt);
                end = startedAt.plus(duration);
            }
            Duration elapsed =
                    end == null ? Duration.ZERO : duration != null ? duration : Duration.between(startedAt, end);
            boolean running = end == null;
            return new AuditEvent(
                    eventId != null ? eventId : UUID.randomUUID(),
                    eventType,
                    methodName,
                    correlationId,
                    startedAt,
                    end,
                    elapsed.isNegative() ? 0 : elapsed.toMillis(),
                    itemCount,
                    running || elapsed.isNegative() ? 0.0 : rate(itemCount, elapsed),
                    !running && success,
                    outcome != null ? outcome : running ? RUNNING : success ? COMPLETED : FAILED,
                    errorMessage,
                    retries,
                    resumes,
                    copyOf(additionalData));
        }
    }
}
