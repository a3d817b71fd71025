package dev.sluice.pipeline.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The ring of a channel with one receiver at a time ({@link ChannelShape#SPSC}, {@link ChannelShape#MPSC}): one
 * slot per item of capacity, rounded up to a power of two, and nothing else.
 *
 * <p>A slot is empty ({@code null}) or holds the item of exactly one index. The receiver takes the item at its
 * index, empties the slot, and only then advances its index (a release store). The channel admits reservation
 * {@code i} only on a view of the index past {@code i - capacity}, acquired from the index or from a value passed on
 * with release and acquire semantics (see {@code BoundedChannel.room}), so the slot of {@code i} was emptied before
 * the put: the put finds it empty and stores with a release, and no receiver can see an item of another lap in
 * it.
 */
final class SingleConsumerRing<T> extends ItemRing<T> {

    private final Object[] buffer;
    private final int mask;

    SingleConsumerRing(int capacity) {
        super(powerOfTwoAtLeast(capacity));
        this.buffer = new Object[slots()];
        this.mask = buffer.length - 1;
    }

    @Override
    void put(long index, T item) {
        SLOT.setRelease(buffer, (int) index & mask, item);
    }

    @Override
    @SuppressWarnings("unchecked")
    T poll(boolean yieldOnLostRace) {
        long c = (long) CONSUMER.getOpaque(this); // written only by this receiver
        int slot = (int) c & mask;
        Object item = SLOT.getAcquire(buffer, slot);
        if (item == null) {
            return null;
        }
        SLOT.set(buffer, slot, null); // ordered before the index's release below
        CONSUMER.setRelease(this, c + 1);
        return (T) item;
    }

    /** {@code false}: the receiver advances its index with a release store. */
    @Override
    boolean pollIsVolatileWrite() {
        return false;
    }

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle CONSUMER = ItemRing.CONSUMER_INDEX;
}
