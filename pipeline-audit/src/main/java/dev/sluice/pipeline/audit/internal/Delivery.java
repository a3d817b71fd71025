package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.AuditSink;
import dev.sluice.pipeline.audit.AuditStoreException;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;

/**
 * Writes a batch to the sink: retries what the store may take later, and splits what it refuses for good until each
 * refused event stands alone, so that the events around it are written. Used by one thread at a time.
 *
 * <h2>Refused or failing</h2>
 * A failure is a <b>refusal</b> when its SQLState ({@link AuditStoreException#sqlState()}, else the first along the
 * chain of causes) is of class
 * <ul>
 *   <li>22, data exception: a value out of a column's range or too long for it;</li>
 *   <li>23, integrity constraint violation: a CHECK, NOT NULL or UNIQUE constraint, a trigger that says no with
 *       {@code check_violation} (conflicts on {@code event_id} never get here: the inserts say what to do on them);</li>
 *   <li>54, program limit exceeded: an index entry or a JSON value larger than the store holds.</li>
 * </ul>
 * The store answered, and says no to what some event holds: no retry can change that. Every other failure is the store
 * <b>failing</b>, and is retried: class 08 (connection), 40 (transaction rollback: serialisation, deadlock), 53
 * (insufficient resources), 57 (operator intervention, a statement timeout), 25 (a read-only standby after a
 * failover), failures without an SQLState, and also 42 (syntax or access rule): with every value bound as a parameter,
 * a 42 never comes from an event but from the table or the grants (a dropped table, a revoked privilege), refuses every
 * event alike, and an operator cures it, after which the spilled events replay.
 *
 * <h2>Splitting</h2>
 * A refused batch is split in halves, the first written (the same way) before the second; a half that fails stops
 * the whole. So what a delivery handled, written or set aside, is always a prefix of the batch, and the rest can be
 * spilled or replayed again as it is. A batch of n events with one refused takes about 2 log<sub>2</sub> n more
 * statements.
 */
public final class Delivery {
    private static final Set<String> REFUSING_CLASSES = Set.of("22", "23", "54");

    /** Where an event the store refuses goes. */
    @FunctionalInterface
    public interface SetAside {
        /**
         * Sets {@code event} aside.
         *
         * @return false if that failed: the event counts as not handled, and the delivery stops there
         */
        boolean setAside(AuditEvent event, Throwable refusal);
    }

    /**
     * What a delivery did: the first {@code written + setAside} events of the batch were handled; if {@code failure}
     * is not null, the rest were not (the store failed, or an event could not be set aside).
     */
    public record Result(int written, int setAside, Throwable failure) {
        public int handled() {
            return written + setAside;
        }
    }

    private final AuditSink sink;
    private final RetryPolicy retry;
    private final WriterState state;
    private final SetAside setAside;

    public Delivery(AuditSink sink, RetryPolicy retry, WriterState state, SetAside setAside) {
        this.sink = sink;
        this.retry = retry;
        this.state = state;
        this.setAside = setAside;
    }

    public Result deliver(List<AuditEvent> batch) {
        Tally tally = new Tally();
        deliver(batch, tally);
        return new Result(tally.written, tally.setAside, tally.failure);
    }

    /** Returns false if it stopped: {@code tally.failure} says why. */
    private boolean deliver(List<AuditEvent> batch, Tally tally) {
        Throwable failure = attempt(batch);
        if (failure == null) {
            tally.written += batch.size();
            return true;
        }
        if (!refused(failure)) {
            tally.failure = failure;
            return false;
        }
        if (batch.size() == 1) {
            if (setAside.setAside(batch.get(0), failure)) {
                tally.setAside++;
                return true;
            }
            tally.failure = failure;
            return false;
        }
        int half = batch.size() / 2;
        return deliver(batch.subList(0, half), tally) && deliver(batch.subList(half, batch.size()), tally);
    }

    /** Writes the batch, retrying along the policy while the store fails; returns null, or the last failure. */
    private Throwable attempt(List<AuditEvent> batch) {
        for (int attempt = 0; ; attempt++) {
            Throwable failure;
            try {
                state.takeTurn();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the closer gave up: the batch is left to the caller
                return new AuditStoreException("interrupted while waiting to write to the audit store", e);
            }
            try {
                sink.write(batch);
                return null;
            } catch (RuntimeException | LinkageError | AssertionError e) {
                failure = e;
            } finally {
                state.endTurn();
            }
            if (refused(failure) || attempt == retry.maxRetries() || !state.pause(retry.delayNanos(attempt + 1))) {
                return failure;
            }
        }
    }

    /** Whether {@code failure} says the store refuses what the events hold (see the class comment). */
    public static boolean refused(Throwable failure) {
        String state = sqlState(failure);
        return state != null && state.length() >= 2 && REFUSING_CLASSES.contains(state.substring(0, 2));
    }

    /** The SQLState of {@code failure}: an {@link AuditStoreException}'s, else the first along its causes; or null. */
    public static String sqlState(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof AuditStoreException a && a.sqlState() != null) {
                return a.sqlState();
            }
            if (t instanceof SQLException s && s.getSQLState() != null) {
                return s.getSQLState();
            }
        }
        return null;
    }

    private static final class Tally {
        int written;
        int setAside;
        Throwable failure;
    }
}
