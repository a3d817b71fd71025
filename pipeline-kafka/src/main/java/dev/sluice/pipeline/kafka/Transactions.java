package dev.sluice.pipeline.kafka;

import dev.sluice.pipeline.internal.check.Nanos;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * The transactions of a transactional KafkaSink, and the one source run whose offsets they commit.
 *
 * Invariants that make output and offsets commit together, exactly once:
 * - Records are sent only inside a transaction, by the sink thread, under the lock.
 * - A transaction commits the offsets that are committable at the moment of the commit, under the lock, and only if
 *   no partition has a record processed at or beyond its committable offset (the committer returns null then, and
 *   the transaction stays open): so every output in the transaction comes from a record below the offsets it
 *   commits, and every record below them is finished.
 * - The run acknowledges a group's records on the sink thread right after the sink returns from it. A commit from
 *   the sink thread (at the start of the next group) therefore sees every acknowledgement of the outputs already
 *   sent. A commit from another thread (the poll thread at an interval or on a revocation, the source thread at the
 *   end) takes the lock and then waits until the sink has been out of its group for SETTLE, which covers the
 *   acknowledgements' delivery, or gives up for this time.
 * - Output is committed only with the offsets of the run attached when it was written. Once a transaction of a run
 *   is aborted, or a commit of it fails, the run is forfeited: its committable offsets no longer match what was
 *   written (the aborted output of records whose acknowledgements moved them is gone), so it commits nothing again.
 *   The sink still sends into transactions of its own, each aborted at the end of its group, as is the output of a
 *   group sent while no run is attached (the tail of a run that ended unsettled). An attach aborts a transaction
 *   still open, so a run's first commit holds only its own output.
 */
final class Transactions {

    /** What a source run tells the transactions. */
    interface Committer {
        /** The offsets to commit now, or null if a record beyond them has been processed (wait). */
        Map<TopicPartition, OffsetAndMetadata> offsets();

        /** The consumer's group metadata, for fencing a former member of the group. */
        ConsumerGroupMetadata groupMetadata();

        /** The offsets were committed. */
        void committed(Map<TopicPartition, OffsetAndMetadata> offsets);
    }

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSink.class);
    private static final long SETTLE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final Producer<?, ?> producer;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by lock. */
    private boolean open;
    /** Guarded by lock. */
    private Committer committer;
    /** Whether the attached run commits nothing more (see the invariants). Guarded by lock. */
    private boolean forfeited;
    /** When the sink last returned from a group; guarded by lock for writes. */
    private volatile long lastReturnNanos = System.nanoTime();
    /** Guarded by lock. */
    private long intervalNanos;
    /** Guarded by lock. */
    private long lastCommitNanos = System.nanoTime();

    Transactions(Producer<?, ?> producer) {
        this.producer = producer;
    }

    /** Binds the transactions to a source run, which commits every {@code interval}. Only one run at a time. */
    void attach(Committer run, java.time.Duration interval) {
        lock.lock();
        try {
            if (committer != null) {
                throw new IllegalStateException("a transactional KafkaSink commits the offsets of one source run at a"
                        + " time, and another run uses it");
            }
            abortIfOpen();
            committer = run;
            forfeited = false;
            intervalNanos = Nanos.saturated(interval);
            lastCommitNanos = System.nanoTime();
        } finally {
            lock.unlock();
        }
    }

    /** Unbinds the run; a transaction still open is aborted. */
    void detach(Committer run) {
        lock.lock();
        try {
            if (committer == run) {
                committer = null;
                abortIfOpen();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Starts a group: first commits the open transaction if the commit interval has passed, then makes sure a
     * transaction is open. The caller holds the lock (see {@link #lock()}).
     */
    void beginGroup() {
        if (open && System.nanoTime() - lastCommitNanos >= intervalNanos) {
            commitLocked();
        }
        if (!open) {
            producer.beginTransaction();
            open = true;
        }
    }

    /**
     * The sink returned from a group. A group sent while no run is attached, or while the attached run is forfeited,
     * is aborted at once: no commit may ever publish it. The caller holds the lock.
     */
    void endGroup() {
        lastReturnNanos = System.nanoTime();
        if (committer == null || forfeited) {
            abortIfOpen();
        }
    }

    ReentrantLock lock() {
        return lock;
    }

    /**
     * Commits from a thread other than the sink's: waits for the lock, then for the sink's last group to settle.
     *
     * @return whether the transaction (if any) and the committable offsets were committed
     */
    boolean commit() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            long quiet = System.nanoTime() - lastReturnNanos;
            if (quiet < SETTLE_NANOS) {
                TimeUnit.NANOSECONDS.sleep(SETTLE_NANOS - quiet);
            }
            return commitLocked();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Forfeits {@code run} if it is the one attached: the open transaction, if any, is aborted (its output discarded,
     * its offsets not committed), and the run commits nothing more. Later output goes into transactions that are
     * aborted too. Waits for the lock, so a commit under way completes first.
     */
    void forfeit(Committer run) {
        lock.lock();
        try {
            if (committer == run) {
                forfeited = true;
                abortIfOpen();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@code run} has been forfeited (or is no longer attached): it commits nothing more. */
    boolean forfeited(Committer run) {
        lock.lock();
        try {
            return committer != run || forfeited;
        } finally {
            lock.unlock();
        }
    }

    private boolean commitLocked() {
        Committer run = committer;
        if (run == null || forfeited) {
            return false;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = run.offsets();
        if (offsets == null) {
            return false;
        }
        if (!open && offsets.isEmpty()) {
            return true;
        }
        try {
            if (!open) {
                producer.beginTransaction();
                open = true;
            }
            if (!offsets.isEmpty()) {
                producer.sendOffsetsToTransaction(offsets, run.groupMetadata());
            }
            producer.commitTransaction();
        } catch (RuntimeException e) {
            // Committed or not, output and offsets went (or did not) together; but the run cannot tell which.
            forfeited = true;
            abortIfOpen();
            throw e;
        }
        open = false;
        lastCommitNanos = System.nanoTime();
        run.committed(offsets);
        return true;
    }

    /** Aborts the open transaction, if any. A producer that cannot abort (fenced, closed) fails its next send. */
    private void abortIfOpen() {
        if (open) {
            open = false;
            try {
                producer.abortTransaction();
            } catch (RuntimeException e) {
                LOG.warn("aborting a transaction failed; the producer cannot send again", e);
            }
        }
    }
}
