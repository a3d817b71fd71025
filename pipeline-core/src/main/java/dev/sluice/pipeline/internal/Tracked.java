package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Disposition;
import java.util.function.Consumer;

/**
 * A tracked element on its way through a run: the value user functions see, and the {@link ItemAck} it holds one
 * reference of. Untracked items travel bare, so that a run whose source tracks nothing pays one type check per
 * item and allocates nothing.
 *
 * <p>An envelope is owned by one stage at a time (a channel hands it over with a happens-before edge), and a
 * stage that maps the value reuses the envelope for the result instead of allocating another.
 */
final class Tracked {
    /** What the link's overflow policy does with a dropped element: a tracked one is acknowledged as dropped. */
    static final Consumer<Object> ON_DROP = element -> {
        if (element instanceof Tracked t) {
            t.ack.release(Disposition.DROPPED);
        }
    };

    /** The item, or the stage's result for it; a list of values when {@code ack} is a batch's group. */
    Object value;
    /** The reference this element holds. */
    final ItemAck ack;

    Tracked(Object value, ItemAck ack) {
        this.value = value;
        this.ack = ack;
    }

    /** The value user code sees for an element of a link. */
    static Object valueOf(Object element) {
        return element instanceof Tracked t ? t.value : element;
    }

    /** Releases the reference an element holds, if it is tracked. */
    static void release(Object element, Disposition disposition) {
        if (element instanceof Tracked t) {
            t.ack.release(disposition);
        }
    }

    @Override
    public String toString() {
        return "Tracked[" + value + "]";
    }
}
