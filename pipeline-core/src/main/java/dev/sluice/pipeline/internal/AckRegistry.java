package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Disposition;

/**
 * The source items of one run that were emitted with an acknowledgement, so that the run can release those it did
 * not finish when it ends ({@link #releaseAll}): whatever a stage held when it was interrupted, what a failed link
 * still buffered, what a {@code take} left upstream. This is what makes "exactly one call per item before the run
 * returns" hold on every path without each of them releasing precisely.
 *
 * <p>Single writer: only the source thread adds (an {@link dev.sluice.pipeline.Emitter} is used by one thread at a
 * time). {@link #releaseAll} runs after every stage thread has ended (the scope's join orders it after them).
 * Acknowledged roots are unlinked in a sweep whenever the list has doubled since the last sweep, so it holds at
 * most about twice the roots not yet acknowledged (plus a small constant), at an amortised constant cost per item.
 */
final class AckRegistry {
    private static final int MIN_SWEEP = 64;

    private ItemAck.Root head;
    private ItemAck.Root tail;
    private int listed;
    private int sweepAt = MIN_SWEEP;

    void add(ItemAck.Root root) {
        if (tail == null) {
            head = root;
        } else {
            tail.next = root;
        }
        tail = root;
        if (++listed > sweepAt) {
            sweep();
            sweepAt = Math.max(MIN_SWEEP, 2 * listed);
        }
    }

    /** Acknowledges every root not yet acknowledged as {@link Disposition#RELEASED}; returns how many. */
    int releaseAll() {
        int released = 0;
        for (ItemAck.Root r = head; r != null; r = r.next) {
            if (r.forceRelease(Disposition.RELEASED)) {
                released++;
            }
        }
        head = null;
        tail = null;
        listed = 0;
        return released;
    }

    private void sweep() {
        ItemAck.Root kept = null;
        ItemAck.Root keptTail = null;
        int count = 0;
        for (ItemAck.Root r = head; r != null; ) {
            ItemAck.Root next = r.next;
            r.next = null;
            if (!r.isAcknowledged()) {
                if (keptTail == null) {
                    kept = r;
                } else {
                    keptTail.next = r;
                }
                keptTail = r;
                count++;
            }
            r = next;
        }
        head = kept;
        tail = keptTail;
        listed = count;
    }
}
