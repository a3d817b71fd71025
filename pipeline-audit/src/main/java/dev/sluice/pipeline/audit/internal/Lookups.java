package dev.sluice.pipeline.audit.internal;

import java.time.Instant;
import java.util.Objects;

/** The argument checks that every {@code AuditLookup} shares. */
public final class Lookups {
    private Lookups() {}

    public static void checkTypeQuery(String eventType, Instant from, Instant to, int limit) {
        Objects.requireNonNull(eventType, "eventType must not be null");
        Objects.requireNonNull(from, "from must not be null");
        Objects.requireNonNull(to, "to must not be null");
        if (to.isBefore(from)) {
            throw new IllegalArgumentException("to must not be before from, got from " + from + " and to " + to);
        }
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, got " + limit);
        }
    }
}
