package dev.sluice.pipeline.audit.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What an audit writer did with its events. Each counter only grows. Held strongly by the writer, and bound weakly by
 * its meters (Micrometer's function counters hold their object weakly).
 */
public final class WriterCounters {
    public final AtomicLong submitted = new AtomicLong();
    public final AtomicLong written = new AtomicLong();
    public final AtomicLong spilled = new AtomicLong();
    public final AtomicLong replayed = new AtomicLong();
    /** Events taken from the spill file that the store refuses for good, set aside in the dead-letter file. */
    public final AtomicLong deadLettered = new AtomicLong();

    public final AtomicLong dropped = new AtomicLong();
    /** Times an enricher failed on an event (which was written without that enricher's attributes). */
    public final AtomicLong enrichmentFailures = new AtomicLong();

    /** Events given to the writer and not yet written, spilled or dropped. */
    public long pending() {
        // Read the outcomes before the total, so that a submission racing with this read cannot make it negative.
        long done = written.get() + spilled.get() + dropped.get();
        return Math.max(0, submitted.get() - done);
    }
}
