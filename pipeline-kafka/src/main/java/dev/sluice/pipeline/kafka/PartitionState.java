package dev.sluice.pipeline.kafka;

import dev.sluice.pipeline.Acknowledgement;
import dev.sluice.pipeline.Disposition;
import dev.sluice.pipeline.PositionTracker;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.common.TopicPartition;

/**
 * One assigned partition during one assignment: from {@code onPartitionsAssigned} until it is revoked or lost. A
 * partition assigned again later gets a new state, so records fetched under an old assignment can be told apart.
 *
 * <p>The source thread {@linkplain #admit admits} each record before emitting it, which starts tracking its offset;
 * once the partition is {@linkplain #revoke revoked}, nothing more is admitted. Admission and revocation take the
 * same lock, so a record is either admitted before the revocation (and counted among those the revocation waits
 * for) or not at all. The committable offset is the {@link PositionTracker}'s: every admitted record below it is
 * finished. A record fetched but never admitted (dropped on revocation or at the end of the run) lies above every
 * admitted one, so it is never counted as finished.
 */
final class PartitionState {

    private final TopicPartition topicPartition;
    private final PositionTracker tracker;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by lock. */
    private boolean revoked;
    /** The offset last committed for this assignment; written by the committing thread (with transactions, under their lock). */
    private volatile long committed;
    /** The highest offset whose record the sink has processed, or -1; for transactions. */
    private final AtomicLong processed = new AtomicLong(-1);
    /** Records behind the partition's end, as of the last poll; read by a gauge. */
    private volatile long lag;

    PartitionState(TopicPartition topicPartition, long position) {
        this.topicPartition = topicPartition;
        this.tracker = new PositionTracker(position);
        this.committed = position;
    }

    TopicPartition topicPartition() {
        return topicPartition;
    }

    /**
     * Starts tracking the record at {@code offset} if the partition is still assigned. Source thread, in offset
     * order.
     *
     * @return the record's acknowledgement, or null if the partition has been revoked (the record is not emitted)
     */
    Acknowledgement admit(long offset) {
        lock.lock();
        try {
            if (revoked) {
                return null;
            }
            Acknowledgement tracked = tracker.track(offset);
            return disposition -> {
                if (disposition == Disposition.PROCESSED) {
                    processedUpTo(offset);
                }
                tracked.done(disposition);
            };
        } finally {
            lock.unlock();
        }
    }

    private void processedUpTo(long offset) {
        processed.accumulateAndGet(offset, Math::max);
    }

    /** Nothing more of this assignment is admitted. */
    void revoke() {
        lock.lock();
        try {
            revoked = true;
        } finally {
            lock.unlock();
        }
    }

    /** The offset that may be committed: every admitted record below it is finished. */
    long committable() {
        return tracker.committable();
    }

    /**
     * Whether some record the sink processed lies at or above the committable offset: its output would be committed
     * before a record below it is finished. A transaction waits until this is no longer so.
     */
    boolean processedBeyondCommittable() {
        return processed.get() >= tracker.committable();
    }

    /**
     * Whether output of this assignment may not have been committed: a record at or beyond the last committed offset
     * was processed (its output went into a transaction not yet committed), or an admitted record is unfinished (its
     * output may be written later). False means everything this assignment wrote was committed with its offsets.
     */
    boolean mayHaveUncommittedOutput() {
        // settled() first: an acknowledgement records the processed offset before the tracker hears of it.
        return !settled() || processed.get() >= committed;
    }

    /** Whether every admitted record has been acknowledged. */
    boolean settled() {
        return tracker.unacknowledged() == 0;
    }

    /** How many admitted records have not been acknowledged yet. */
    int unfinished() {
        return tracker.unacknowledged();
    }

    long committed() {
        return committed;
    }

    void committed(long offset) {
        committed = offset;
    }

    long lag() {
        return lag;
    }

    void lag(long records) {
        lag = records;
    }

    @Override
    public String toString() {
        return topicPartition.toString();
    }
}
