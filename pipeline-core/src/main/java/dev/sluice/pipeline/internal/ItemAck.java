package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Acknowledgement;
import dev.sluice.pipeline.Disposition;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a tracked element owes its source item(s): a reference, released once with the element's disposition.
 * {@link Root} counts the references to one source item (a {@code flatMap}'s children each hold one) and calls the
 * source's {@link Acknowledgement} when the last is released, with the most severe disposition any reference was
 * released with. {@link Group} stands for the items of one {@code batch}.
 */
abstract sealed class ItemAck permits ItemAck.Root, ItemAck.Group {

    private static final Logger log = LoggerFactory.getLogger("dev.sluice.pipeline.Acknowledgement");

    /** Takes one more reference (for another element derived from the same items). Caller holds one. */
    abstract void retain();

    /** Gives up one reference, recording {@code disposition} for the items. */
    abstract void release(Disposition disposition);

    /** Severity, for combining: FILTERED < PROCESSED < DROPPED < SKIPPED < DEAD_LETTERED < RELEASED < FAILED. */
    static int severity(Disposition d) {
        return switch (d) {
            case FILTERED -> 0;
            case PROCESSED -> 1;
            case DROPPED -> 2;
            case SKIPPED -> 3;
            case DEAD_LETTERED -> 4;
            case RELEASED -> 5;
            case FAILED -> 6;
        };
    }

    private static final Disposition[] BY_SEVERITY = {
        Disposition.FILTERED,
        Disposition.PROCESSED,
        Disposition.DROPPED,
        Disposition.SKIPPED,
        Disposition.DEAD_LETTERED,
        Disposition.RELEASED,
        Disposition.FAILED
    };

    /**
     * One source item. {@code refs} counts the elements that still stand for it; it reaches 0 exactly once, by a
     * release or by {@link #forceRelease}, and whoever takes it there calls the acknowledgement. A release that
     * leaves references behind records its severity in {@code worst} before it decrements, so that the last
     * releaser (whose decrement is ordered after every earlier one) reads every earlier severity.
     */
    static final class Root extends ItemAck {
        private final Acknowledgement ack;

        @SuppressWarnings("unused") // through REFS
        private volatile int refs = 1;

        @SuppressWarnings("unused") // through WORST
        private volatile int worst = -1;

        /** The next root in the source's registry ({@link AckRegistry}); source thread only. */
        Root next;

        Root(Acknowledgement ack) {
            this.ack = ack;
        }

        @Override
        void retain() {
            for (; ; ) {
                int r = (int) REFS.getVolatile(this);
                if (r <= 0 || REFS.compareAndSet(this, r, r + 1)) {
                    return;
                }
            }
        }

        @Override
        void release(Disposition disposition) {
            int severity = severity(disposition);
            for (; ; ) {
                int r = (int) REFS.getVolatile(this);
                if (r <= 0) {
                    return; // already acknowledged (released by force when the run ended)
                }
                if (r == 1) {
                    if (REFS.compareAndSet(this, 1, 0)) {
                        acknowledge(BY_SEVERITY[Math.max(severity, (int) WORST.getVolatile(this))]);
                        return;
                    }
                } else {
                    raiseWorst(severity);
                    if (REFS.compareAndSet(this, r, r - 1)) {
                        return;
                    }
                }
            }
        }

        /**
         * Acknowledges the item with {@code disposition} now, whatever references remain (the run has ended, or
         * the item was never accepted); nothing if it was acknowledged already.
         *
         * @return whether this call acknowledged it
         */
        boolean forceRelease(Disposition disposition) {
            for (; ; ) {
                int r = (int) REFS.getVolatile(this);
                if (r <= 0) {
                    return false;
                }
                if (REFS.compareAndSet(this, r, 0)) {
                    // A child already released as more severe (FAILED) keeps its severity.
                    acknowledge(BY_SEVERITY[Math.max(severity(disposition), (int) WORST.getVolatile(this))]);
                    return true;
                }
            }
        }

        /** Whether the item has been acknowledged. */
        boolean isAcknowledged() {
            return (int) REFS.getVolatile(this) <= 0;
        }

        private void raiseWorst(int severity) {
            for (; ; ) {
                int w = (int) WORST.getVolatile(this);
                if (w >= severity || WORST.compareAndSet(this, w, severity)) {
                    return;
                }
            }
        }

        private void acknowledge(Disposition disposition) {
            try {
                ack.done(disposition);
            } catch (Throwable t) {
                log.warn("an acknowledgement ({}) threw; the run goes on", ack, t);
            }
        }

        private static final VarHandle REFS;
        private static final VarHandle WORST;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                REFS = l.findVarHandle(Root.class, "refs", int.class);
                WORST = l.findVarHandle(Root.class, "worst", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    /** The items of one batch: one reference of each member, retained and released together. */
    static final class Group extends ItemAck {
        private final List<ItemAck> members;

        Group(List<ItemAck> members) {
            this.members = members;
        }

        @Override
        void retain() {
            for (ItemAck m : members) {
                m.retain();
            }
        }

        @Override
        void release(Disposition disposition) {
            for (ItemAck m : members) {
                m.release(disposition);
            }
        }
    }
}
