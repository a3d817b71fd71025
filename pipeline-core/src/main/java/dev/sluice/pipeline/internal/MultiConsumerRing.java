package dev.sluice.pipeline.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The ring of a channel with several receivers at a time ({@link ChannelShape#SPMC}, {@link ChannelShape#MPMC}):
 * slots with a sequence number each, after Dmitry Vyukov's bounded MPMC queue, but without its producer index: the
 * channel's reservation already gives each sender its index.
 *
 * <p>The sequence of a slot says whose turn it is. For index {@code i} in slot {@code s = i mod slots}: {@code i}
 * means the slot is free for the put of {@code i}; {@code i + 1} means the item of {@code i} has landed;
 * {@code i + slots} means a receiver has taken it and the slot is free for the put of {@code i + slots}. A put
 * waits for its turn (acquire), stores the item and publishes it (release); a receiver claims index {@code i} by a
 * compare-and-set of the consumer index once it sees the item landed, reads it, empties the slot and hands the slot
 * on (release). A receiver advances the consumer index when it claims, before it reads, so a put can find its slot
 * still held: the ring has twice the channel's capacity in slots (ADR 0008; past 2^29 the capacity, rounded up),
 * so that the held slot is a whole channel's worth of items behind, and the put almost never waits. A receiver that
 * loses the claim to another receiver may let its carrier go before it tries again ({@link #afterLostRace()}).
 */
final class MultiConsumerRing<T> extends ItemRing<T> {

    private final Object[] buffer;
    private final long[] sequences;
    private final int mask;

    /** A ring of {@code slots} slots, a power of two at least the channel's capacity. */
    MultiConsumerRing(int slots) {
        super(requirePowerOfTwo(slots));
        this.buffer = new Object[slots];
        this.sequences = new long[slots];
        this.mask = slots - 1;
        for (int s = 0; s < slots; s++) {
            sequences[s] = s;
        }
    }

    @Override
    void put(long index, T item) {
        int slot = (int) index & mask;
        if ((long) SEQUENCE.getAcquire(sequences, slot) != index) {
            int spins = 0;
            while ((long) SEQUENCE.getAcquire(sequences, slot) != index) {
                spinOrYield(++spins);
            }
        }
        buffer[slot] = item; // published by the release below
        SEQUENCE.setRelease(sequences, slot, index + 1);
    }

    @Override
    @SuppressWarnings("unchecked")
    T poll(boolean yieldOnLostRace) {
        for (; ; ) {
            long c = consumerIndex;
            int slot = (int) c & mask;
            long sequence = (long) SEQUENCE.getAcquire(sequences, slot);
            long turn = sequence - (c + 1);
            if (turn == 0) {
                if (CONSUMER.compareAndSet(this, c, c + 1)) {
                    Object item = buffer[slot];
                    buffer[slot] = null; // ordered before the hand-on below
                    SEQUENCE.setRelease(sequences, slot, c + buffer.length);
                    return (T) item;
                }
                if (yieldOnLostRace) {
                    afterLostRace(); // another receiver claimed c
                }
            } else if (turn < 0) {
                return null; // the item of c has not landed: the ring is empty or its put is under way
            }
            // turn > 0: another receiver took c meanwhile; read the index again
        }
    }

    /**
     * {@code true}: a receiver claims its index with a compare-and-set. It must stay a strong compare-and-set with
     * volatile semantics: the channel relies on it instead of a fence after the take.
     */
    @Override
    boolean pollIsVolatileWrite() {
        return true;
    }

    private static int requirePowerOfTwo(int slots) {
        if (Integer.bitCount(slots) != 1) {
            throw new IllegalArgumentException("slots must be a power of two; was " + slots);
        }
        return slots;
    }

    private static final VarHandle SEQUENCE = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle CONSUMER = ItemRing.CONSUMER_INDEX;
}
