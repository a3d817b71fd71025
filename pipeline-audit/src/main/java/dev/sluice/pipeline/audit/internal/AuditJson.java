package dev.sluice.pipeline.audit.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.sluice.pipeline.audit.AuditEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one place where audit data becomes JSON and back, through one shared, thread-safe Jackson mapper. Instants are
 * written as ISO-8601 text; unknown properties are ignored when reading, so a spill file written by a newer version
 * still replays.
 */
public final class AuditJson {

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};

    private AuditJson() {}

    /** The event as one line of JSON (JSON text never contains a raw line break). */
    public static String toJson(AuditEvent event) {
        try {
            return MAPPER.writeValueAsString(event);
        } catch (JsonProcessingException e) {
            // AuditEvent's additional data was proven serialisable when the event was made.
            throw new IllegalStateException("audit event " + event.eventId() + " could not be written as JSON", e);
        }
    }

    /**
     * One line of a dead-letter file: when, the SQLState (or null), why, and the event (or, for a spill-file line that
     * is not one, that line's text).
     */
    public static String deadLetter(Instant at, String reason, String sqlState, AuditEvent event, String line) {
        ObjectNode record = MAPPER.createObjectNode();
        record.put("deadLetteredAt", at.toString());
        record.put("sqlState", sqlState);
        record.put("reason", reason);
        try {
            if (event != null) {
                record.set("event", MAPPER.readTree(toJson(event)));
            } else {
                record.put("line", line);
            }
            return MAPPER.writeValueAsString(record);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a dead-letter record could not be written as JSON", e);
        }
    }

    /**
     * Reads an event written by {@link #toJson}.
     *
     * @throws IllegalArgumentException if the text is not such an event; the message says why
     */
    public static AuditEvent fromJson(String json) {
        try {
            return MAPPER.readValue(json, AuditEvent.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not an audit event in JSON: " + e.getOriginalMessage(), e);
        } catch (RuntimeException e) {
            // A record's constructor refused a value (a blank method name, a negative count, ...).
            throw new IllegalArgumentException("not a valid audit event: " + e.getMessage(), e);
        }
    }

    /**
     * Turns a caller's map into its JSON form: a deep, unmodifiable copy made only of maps (insertion-ordered), lists,
     * strings, numbers, booleans and nulls, exactly what reading the stored JSON back gives. Instants become ISO-8601
     * text, records and beans their properties. Strings are made storable ({@link Text#storable}).
     *
     * @param maxJsonLength the longest JSON text the data may take
     * @param maxDepth how deep maps and lists may nest, the data's own map being 1
     * @throws IllegalArgumentException if the data cannot be written as JSON, its JSON is longer than allowed, or it
     *     nests too deep
     */
    public static Map<String, Object> normalise(Map<String, ?> data, int maxJsonLength, int maxDepth) {
        if (data.isEmpty()) {
            return Map.of();
        }
        String json;
        try {
            json = MAPPER.writeValueAsString(data);
        } catch (JsonProcessingException | RuntimeException e) {
            throw new IllegalArgumentException(
                    "additionalData cannot be written as JSON (values must be strings, "
                            + "numbers, booleans, nulls, maps, lists, instants or records of these, nested at most 1000 deep): "
                            + firstLine(e),
                    e);
        } catch (StackOverflowError e) {
            throw new IllegalArgumentException("additionalData cannot be written as JSON: it refers to itself", e);
        }
        if (json.length() > maxJsonLength) {
            throw new IllegalArgumentException(
                    "additionalData is " + json.length() + " characters of JSON; the limit is " + maxJsonLength
                            + " (AuditEvent.MAX_ADDITIONAL_DATA_LENGTH): keep large payloads out of the audit trail");
        }
        try {
            return freeze(MAPPER.readValue(json, MAP), 1, maxDepth);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("additionalData cannot be read back from its JSON: " + firstLine(e), e);
        }
    }

    private static Map<String, Object> freeze(Map<String, Object> map, int depth, int maxDepth) {
        requireDepth(depth, maxDepth);
        Map<String, Object> copy = new LinkedHashMap<>(Math.max(4, map.size() * 2));
        for (Map.Entry<String, Object> e : map.entrySet()) {
            copy.put(Text.storable(e.getKey()), freezeValue(e.getValue(), depth, maxDepth));
        }
        return Collections.unmodifiableMap(copy);
    }

    @SuppressWarnings("unchecked")
    private static Object freezeValue(Object value, int depth, int maxDepth) {
        if (value instanceof Map<?, ?> m) {
            return freeze((Map<String, Object>) m, depth + 1, maxDepth);
        }
        if (value instanceof List<?> l) {
            requireDepth(depth + 1, maxDepth);
            List<Object> copy = new ArrayList<>(l.size());
            for (Object o : l) {
                copy.add(freezeValue(o, depth + 1, maxDepth));
            }
            return Collections.unmodifiableList(copy);
        }
        if (value instanceof String s) {
            return Text.storable(s);
        }
        return value;
    }

    private static void requireDepth(int depth, int maxDepth) {
        if (depth > maxDepth) {
            throw new IllegalArgumentException("additionalData nests maps and lists more than " + maxDepth
                    + " deep (AuditEvent.MAX_ADDITIONAL_DATA_DEPTH); every store must be able to parse it");
        }
    }

    private static String firstLine(Throwable e) {
        String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        if (m == null) {
            return e.getClass().getSimpleName();
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
