package dev.sluice.pipeline.audit;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/** Audit events for tests. */
final class Events {
    static final Instant BASE = Instant.parse("2025-06-01T12:00:00.000Z");

    private Events() {}

    /** A finished event numbered {@code n}: correlation ID {@code prefix-n}, started {@code n} ms after BASE. */
    static AuditEvent finished(String prefix, int n) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("n", n);
        data.put("producer", prefix);
        return new AuditEvent(
                UUID.randomUUID(),
                "test:Event",
                "method-" + (n % 7),
                prefix + "-" + n,
                BASE.plusMillis(n),
                BASE.plusMillis(n + 250),
                250,
                n,
                n * 4.0,
                n % 5 != 0,
                n % 5 != 0 ? AuditEvent.COMPLETED : AuditEvent.FAILED,
                n % 5 != 0 ? null : "boom " + n,
                n % 3,
                n % 2,
                data);
    }

    /** An event with every field set to something other than its default. */
    static AuditEvent everyFieldSet() {
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("level", 2);
        nested.put("empty", null);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("userId", "SystemUser");
        data.put("operationType", "BulkProcess");
        data.put("nothing", null);
        data.put("nested", nested);
        data.put("list", java.util.List.of(1, "two", 3.5, true));
        data.put("unicode", "Grüße, 世界, emoji 🚀, rtl \u05e9\u05dc\u05d5\u05dd");
        return new AuditEvent(
                UUID.randomUUID(),
                AuditEvent.GRPC_STREAMING,
                "GetUsersOnlineStream",
                "corr-" + UUID.randomUUID(),
                Instant.parse("2025-01-02T03:04:05.678Z"),
                Instant.parse("2025-01-02T03:04:07.912Z"),
                2234,
                1234,
                552.37,
                false,
                "FAILED",
                "UNAVAILABLE: connection reset",
                3,
                2,
                data);
    }

    static AuditEvent streaming(String correlationId, Instant start, long items) {
        return AuditEvent.streaming("GetUsersOnlineStream", correlationId)
                .startedAt(start)
                .duration(Duration.ofMillis(1500))
                .itemCount(items)
                .additionalData(Map.of("userId", "SystemUser"))
                .build();
    }
}
