package dev.sluice.pipeline.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The ring of a channel with one receiver at a time ({@link ChannelShape#SPSC}, {@link ChannelShape#MPSC}): one
 * slot per item of capacity, rounded up to a power of two, and nothing else.
 *
 * <p>A slot is empty ({@code null}) or holds the item of exactly one index. The receiver takes the item at its
 * index, empties the slot (a release store), and only then advances its index (another release store); the channel
 * admits reservation {@code i} only once the index is past {@code i - capacity}, so the slot of {@code i} has been
 * emptied and no receiver can see an item of another lap in it. A put reads the slot with acquire semantics before
 * it stores, which orders the store after the receiver's read of the slot's previous item whatever view of the
 * index the sender's admission came from; the slot is empty then in all but a racing moment, which the put waits
 * out.
 */
final class SingleConsumerRing<T> extends ItemRing<T> {

    private final Object[] buffer;
    private final int mask;

    SingleConsumerRing(int capacity) {
        this.buffer = new Object[powerOfTwoAtLeast(capacity)];
        this.mask = buffer.length - 1;
    }

    @Override
    void put(long index, T item) {
        int slot = (int) index & mask;
        if (SLOT.getAcquire(buffer, slot) != null) {
            int spins = 0;
            while (SLOT.getAcquire(buffer, slot) != null) {
                spinOrYield(++spins);
            }
        }
        SLOT.setRelease(buffer, slot, item);
    }

    @Override
    @SuppressWarnings("unchecked")
    T poll() {
        long c = (long) CONSUMER.getOpaque(this); // written only by this receiver
        int slot = (int) c & mask;
        Object item = SLOT.getAcquire(buffer, slot);
        if (item == null) {
            return null;
        }
        SLOT.setRelease(buffer, slot, null);
        CONSUMER.setRelease(this, c + 1);
        return (T) item;
    }

    @Override
    long consumerIndex() {
        return consumerIndex;
    }

    @Override
    int slots() {
        return buffer.length;
    }

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle CONSUMER = ItemRing.CONSUMER_INDEX;
}
