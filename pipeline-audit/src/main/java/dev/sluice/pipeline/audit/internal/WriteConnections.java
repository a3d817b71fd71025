package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.internal.check.Require;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.LinkedBlockingDeque;
import javax.sql.DataSource;

/**
 * The connections a sink keeps open for writing, at most {@code max} of them, one per write running at once: a write
 * {@linkplain #acquire() takes} a kept connection nobody is using, waits while all {@code max} are in use, and
 * {@linkplain #release gives it back}. Each is a {@link WriteConnection}, opened when first used, so a sink written by
 * one thread at a time opens one whatever {@code max} is: the last connection given back is the next one taken.
 * Thread-safe.
 */
public final class WriteConnections implements AutoCloseable {

    private final List<WriteConnection> all;
    /** Connections nobody is using, the last given back first. */
    private final BlockingDeque<WriteConnection> free;

    /**
     * Connections on {@code dataSource}, none open yet.
     *
     * @param max the most kept open and used at once, at least 1
     * @throws IllegalArgumentException if {@code max} is below 1
     */
    public WriteConnections(DataSource dataSource, int max) {
        Require.atLeast(max, 1, "max");
        List<WriteConnection> made = new ArrayList<>(max);
        for (int i = 0; i < max; i++) {
            made.add(new WriteConnection(dataSource));
        }
        this.all = List.copyOf(made);
        this.free = new LinkedBlockingDeque<>(made);
    }

    /** The most connections kept open. */
    public int max() {
        return all.size();
    }

    /**
     * A kept connection nobody else uses until the calling thread {@linkplain #release releases} it, its lock held by
     * that thread. Waits while all are in use.
     *
     * @throws InterruptedException if interrupted while waiting; the caller holds no connection then
     */
    public WriteConnection acquire() throws InterruptedException {
        WriteConnection w = free.takeFirst();
        w.lock();
        return w;
    }

    /** Gives back a connection {@link #acquire()} returned to the calling thread, and unlocks it. */
    public void release(WriteConnection w) {
        w.unlock();
        free.offerFirst(w); // never refused: the deque has room for every connection
    }

    /** Closes every kept connection, waiting for a write that uses one to end. */
    @Override
    public void close() {
        all.forEach(WriteConnection::close);
    }
}
