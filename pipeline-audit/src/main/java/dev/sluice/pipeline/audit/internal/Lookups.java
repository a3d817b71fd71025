package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.internal.check.Require;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** What every {@code AuditLookup} shares: its argument checks, and the range of start times a lookup covers. */
public final class Lookups {
    private Lookups() {}

    /**
     * Checks the arguments of {@code findByType}.
     *
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code to} is before {@code from} or {@code limit} is below 1
     */
    public static void checkTypeQuery(String eventType, Instant from, Instant to, int limit) {
        Require.nonNull(eventType, "eventType");
        Require.nonNull(from, "from");
        Require.nonNull(to, "to");
        Require.argument(!to.isBefore(from), "to", "not be before from", "from " + from + " and to " + to);
        Require.atLeast(limit, 1, "limit");
    }

    /**
     * The start times that {@code [from, to)} covers, as an inclusive range of whole milliseconds within
     * {@link AuditEvent#EARLIEST_TIME} and {@link AuditEvent#LATEST_TIME} (the times an event can have, all whole
     * milliseconds), so that no store is asked about a time it cannot hold; null if it covers none.
     *
     * @param from the first instant covered
     * @param to the first instant after the range
     * @return {@code [first, last]}, both included, or null
     */
    public static Instant[] storedMillis(Instant from, Instant to) {
        Instant first = from.truncatedTo(ChronoUnit.MILLIS);
        if (first.isBefore(from)) {
            first = first.plusMillis(1);
        }
        Instant last = to.truncatedTo(ChronoUnit.MILLIS);
        if (last.equals(to)) {
            last = last.minusMillis(1);
        }
        if (first.isBefore(AuditEvent.EARLIEST_TIME)) {
            first = AuditEvent.EARLIEST_TIME;
        }
        if (last.isAfter(AuditEvent.LATEST_TIME)) {
            last = AuditEvent.LATEST_TIME;
        }
        return first.isAfter(last) ? null : new Instant[] {first, last};
    }
}
