package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.check.Require;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;

/**
 * The lowest contiguous completed position within one position space (a Kafka partition's offsets, a file's line
 * numbers): what a source may commit or checkpoint while later items finish out of order.
 *
 * <pre>{@code
 * PositionTracker tracker = new PositionTracker(resumeAt);
 * Source<Line> lines = emitter -> {
 *     for (long n = resumeAt; ...; n++) {
 *         emitter.emit(readLine(n), tracker.track(n));
 *     }
 * };
 * // at intervals, and when the run has ended: checkpoint tracker.committable()
 * }</pre>
 *
 * <p>A source {@linkplain #track tracks} each position as it emits the item at it, in increasing order (gaps
 * allowed: a position never tracked counts as complete), and passes the returned {@link Acknowledgement} with the
 * item. {@link #committable()} is then the position a restarted source resumes at: every tracked position below it
 * was acknowledged with a {@linkplain Disposition#isComplete() complete} disposition. A position acknowledged
 * {@link Disposition#RELEASED} or {@link Disposition#FAILED} holds the committable position at itself for good:
 * that item, and everything after it, is to be replayed.
 *
 * <p><b>Thread-safety.</b> All methods may be called from any thread. {@code track} calls must not race one
 * another (one source thread, or calls ordered by the caller), since their order defines the positions'. The
 * acknowledgements may run on any threads, concurrently. A lock guards the state; no method blocks for longer
 * than a few memory operations (and the advance callback, see {@link #PositionTracker(long, LongConsumer)}).
 *
 * <p><b>Memory.</b> The tracker holds one small entry per tracked position from the lowest one not yet complete
 * to the newest ({@link #inFlight()} of them), and nothing for positions below {@link #committable()}. In a
 * pipeline the number not yet acknowledged is bounded by the pipeline's own memory bound plus what its sink holds
 * unconfirmed ({@code Sink.Writer.unconfirmed()}: a whole run's items for a sink that answers once per run, such as
 * {@code GrpcClientStream.sink()}); the completed ones kept behind a slow item are not bounded, so a source that may
 * run far ahead of one slow item should watch {@code inFlight()} and pause.
 *
 * <p>Incubating: may change in a minor release.
 *
 * @since 0.1
 */
public final class PositionTracker {

    private static final int INITIAL_CAPACITY = 64;

    private final ReentrantLock lock = new ReentrantLock();
    private final LongConsumer onAdvance;

    // All guarded by lock. The entries in flight form a ring: entries[head .. head + size) in tracking order.
    private Entry[] entries = new Entry[INITIAL_CAPACITY];
    private int head;
    private int size;
    /** The committable position while no entry is held: the constructor's, or the last tracked + 1. */
    private long floor;
    /** The last position tracked, or {@code floor - 1} before the first. */
    private long last;

    private int unacknowledged;

    /**
     * A tracker whose first position is at least {@code nextPosition}, without a callback.
     *
     * @param nextPosition the position the source will track first, or a lower bound of it; also the committable
     *     position until the first item completes
     * @throws IllegalArgumentException if {@code nextPosition} is {@link Long#MIN_VALUE}
     */
    public PositionTracker(long nextPosition) {
        this(nextPosition, position -> {});
    }

    /**
     * A tracker that calls {@code onAdvance} with the new committable position each time it advances.
     *
     * <p>The callback runs on the thread whose acknowledgement advanced the position, while that thread holds the
     * tracker's lock, so that calls come one at a time and with increasing positions. It must be short and must
     * not block (record the value, wake a committing thread); it may read the tracker. An exception it throws
     * propagates to the acknowledging thread (a pipeline logs and ignores it).
     *
     * @param nextPosition as for {@link #PositionTracker(long)}
     * @param onAdvance called with each new committable position
     * @throws IllegalArgumentException if {@code nextPosition} is {@link Long#MIN_VALUE}
     * @throws NullPointerException if {@code onAdvance} is null
     */
    public PositionTracker(long nextPosition, LongConsumer onAdvance) {
        Require.argument(nextPosition != Long.MIN_VALUE, "nextPosition", "be above Long.MIN_VALUE", nextPosition);
        this.onAdvance = Require.nonNull(onAdvance, "onAdvance");
        this.floor = nextPosition;
        this.last = nextPosition - 1;
    }

    /**
     * Starts tracking {@code position}, the item the source is about to emit.
     *
     * @param position above every position tracked before, and at least the constructor's {@code nextPosition}
     * @return the acknowledgement to emit the item with; it must be called once (a second call throws
     *     {@link IllegalStateException})
     * @throws IllegalArgumentException if {@code position} is not above the last tracked position (or below the
     *     constructor's {@code nextPosition}), or is {@link Long#MAX_VALUE}
     */
    public Acknowledgement track(long position) {
        lock.lock();
        try {
            if (position <= last || position == Long.MAX_VALUE) {
                throw new IllegalArgumentException("position must be above the last position tracked and at least"
                        + " the tracker's nextPosition (so at least " + (last + 1) + "), and below Long.MAX_VALUE,"
                        + " got " + position);
            }
            if (size == entries.length) {
                resize(entries.length * 2);
            }
            Entry e = new Entry(position);
            entries[(head + size) & (entries.length - 1)] = e;
            size++;
            unacknowledged++;
            last = position;
            return e;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The position to commit or checkpoint: every tracked position below it was acknowledged complete. It is the
     * lowest tracked position not yet acknowledged complete, or, when every tracked position is, the last tracked
     * plus one (the constructor's {@code nextPosition} before any was tracked). It never decreases.
     *
     * @return the committable position
     */
    public long committable() {
        lock.lock();
        try {
            return size == 0 ? floor : entries[head].position;
        } finally {
            lock.unlock();
        }
    }

    /**
     * How many tracked positions the tracker holds: those at or above {@link #committable()}, acknowledged or not.
     * This is its memory use, in entries, and how many items a restart from {@code committable()} would replay.
     *
     * @return the number of positions held
     */
    public int inFlight() {
        lock.lock();
        try {
            return size;
        } finally {
            lock.unlock();
        }
    }

    /**
     * How many tracked positions have not been acknowledged yet.
     *
     * @return the number of positions tracked whose acknowledgement has not been called
     */
    public int unacknowledged() {
        lock.lock();
        try {
            return unacknowledged;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        lock.lock();
        try {
            return "PositionTracker[committable " + (size == 0 ? floor : entries[head].position) + ", in flight " + size
                    + ", unacknowledged " + unacknowledged + "]";
        } finally {
            lock.unlock();
        }
    }

    /** Records {@code entry}'s disposition and moves past the completed entries at the head. Lock held. */
    private void acknowledged(Entry entry, Disposition disposition) {
        if (entry.disposition != null) {
            throw new IllegalStateException("position " + entry.position + " was acknowledged twice: first "
                    + entry.disposition + ", now " + disposition);
        }
        entry.disposition = disposition;
        unacknowledged--;
        if (entries[head] != entry || !disposition.isComplete()) {
            return;
        }
        int mask = entries.length - 1;
        while (size > 0 && entries[head].disposition != null && entries[head].disposition.isComplete()) {
            floor = entries[head].position + 1;
            entries[head] = null;
            head = (head + 1) & mask;
            size--;
        }
        if (size == 0) {
            floor = last + 1;
        }
        if (entries.length > INITIAL_CAPACITY && size < entries.length / 4) {
            resize(entries.length / 2);
        }
        onAdvance.accept(size == 0 ? floor : entries[head].position);
    }

    /** Moves the ring into an array of {@code capacity} (a power of two, at least {@code size}). Lock held. */
    private void resize(int capacity) {
        Entry[] moved = new Entry[capacity];
        for (int i = 0; i < size; i++) {
            moved[i] = entries[(head + i) & (entries.length - 1)];
        }
        entries = moved;
        head = 0;
    }

    /** One tracked position, and its acknowledgement. */
    private final class Entry implements Acknowledgement {
        final long position;
        Disposition disposition; // guarded by lock

        Entry(long position) {
            this.position = position;
        }

        @Override
        public void done(Disposition d) {
            Require.nonNull(d, "disposition");
            lock.lock();
            try {
                acknowledged(this, d);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public String toString() {
            return "Acknowledgement[position " + position + "]";
        }
    }
}
