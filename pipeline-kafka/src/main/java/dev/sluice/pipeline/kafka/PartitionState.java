package dev.sluice.pipeline.kafka;

import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.common.TopicPartition;

/**
 * One assigned partition during one assignment: from {@code onPartitionsAssigned} until it is revoked or lost. A
 * partition assigned again later gets a new state, so records fetched under an old assignment can be told apart.
 *
 * <p>The source thread {@linkplain #admit admits} each record before emitting it; once the partition is
 * {@linkplain #revoke revoked}, nothing more is admitted. Admission and revocation take the same lock, so a record
 * is either admitted before the revocation (and counted among those the revocation waits for) or not at all.
 */
final class PartitionState {

    private final TopicPartition topicPartition;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by lock. */
    private boolean revoked;
    /** The offset last committed for this assignment; poll thread only. */
    private long committed;
    /** Records behind the partition's end, as of the last poll; read by a gauge. */
    private volatile long lag;

    PartitionState(TopicPartition topicPartition, long position) {
        this.topicPartition = topicPartition;
        this.committed = position;
    }

    TopicPartition topicPartition() {
        return topicPartition;
    }

    /** Whether the record at {@code offset} may be emitted: the partition is still assigned. Source thread. */
    boolean admit(long offset) {
        lock.lock();
        try {
            return !revoked;
        } finally {
            lock.unlock();
        }
    }

    /** Nothing more of this assignment is admitted. Poll thread. */
    void revoke() {
        lock.lock();
        try {
            revoked = true;
        } finally {
            lock.unlock();
        }
    }

    /** The offset that may be committed: every record below it is finished. */
    long committable() {
        return committed;
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
