package dev.sluice.pipeline.kafka;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The records a run's poll thread has fetched and its source thread has not yet taken: the hand-over between the
 * two. The poll thread {@linkplain #add adds} what each poll returns and never waits; the source thread
 * {@linkplain #take takes} in groups and waits while there is nothing. The poll thread keeps the number held here
 * bounded by pausing its partitions (see {@link SourceRun}), not by waiting, so that it keeps polling.
 *
 * <p>Each record is held with the {@link PartitionState} it was fetched under. A revoked partition's records still
 * held are {@linkplain #removeAll removed}: they were never emitted, and the partition's next owner reads them.
 *
 * <p>Thread-safe; one lock guards everything.
 */
final class Intake {

    /** A fetched record and the state of its partition as it was when the record was fetched. */
    record Fetched(ConsumerRecord<byte[], byte[]> record, PartitionState partition) {}

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition available = lock.newCondition();
    private final ArrayDeque<Fetched> records = new ArrayDeque<>();
    private Throwable failure;
    private boolean closed;
    private int peak;

    /** Adds records in fetch order; wakes the source thread. Poll thread. */
    void add(List<Fetched> fetched) {
        if (fetched.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            records.addAll(fetched);
            peak = Math.max(peak, records.size());
            available.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes up to {@code max} records in fetch order, waiting while there are none.
     *
     * @return the records; empty once the intake is {@linkplain #close() closed} and holds nothing more to give
     * @throws InterruptedException if the calling thread is interrupted while waiting
     * @throws KafkaSourceException if the poll thread failed
     */
    List<Fetched> take(int max) throws InterruptedException {
        lock.lock();
        try {
            while (records.isEmpty() && failure == null && !closed) {
                available.await();
            }
            if (failure != null) {
                throw new KafkaSourceException(failure.getMessage(), failure);
            }
            int n = Math.min(max, records.size());
            List<Fetched> taken = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                taken.add(records.poll());
            }
            return taken;
        } finally {
            lock.unlock();
        }
    }

    /** Removes the records of {@code partitions}; returns how many. Poll thread, in the rebalance listener. */
    int removeAll(Collection<TopicPartition> partitions) {
        lock.lock();
        try {
            int before = records.size();
            records.removeIf(f -> partitions.contains(f.partition().topicPartition()));
            return before - records.size();
        } finally {
            lock.unlock();
        }
    }

    /** How many records are held. */
    int size() {
        lock.lock();
        try {
            return records.size();
        } finally {
            lock.unlock();
        }
    }

    /** The most records held at once so far. */
    int peak() {
        lock.lock();
        try {
            return peak;
        } finally {
            lock.unlock();
        }
    }

    /** The poll thread failed: the source thread's next {@link #take} throws, carrying {@code cause}. */
    void fail(Throwable cause) {
        lock.lock();
        try {
            if (failure == null) {
                failure = cause;
            }
            available.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Nothing more comes: what is held is dropped, and a waiting {@link #take} returns empty. */
    void close() {
        lock.lock();
        try {
            closed = true;
            records.clear();
            available.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
