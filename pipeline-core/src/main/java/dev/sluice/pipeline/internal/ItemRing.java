package dev.sluice.pipeline.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Where a {@link BoundedChannel} keeps its items: a ring of slots indexed by the channel's reservations.
 *
 * <p>The channel decides who may store an item, and where: a sender's compare-and-set on the channel's state word
 * admits it and hands it the next reservation index, and the channel admits a reservation only while fewer than
 * its capacity are buffered or in flight. So a ring never refuses a {@link #put}; it holds at least the channel's
 * capacity in slots, and {@code put} waits only in the rare moment when the slot of its index still holds an item
 * a receiver has claimed but not yet read (a few instructions away).
 *
 * <p>Receivers take items in index order. {@link #consumerIndex()} counts every item ever claimed by a receiver;
 * the channel's buffered count is its reservations minus this index. {@link #poll(boolean)} returns {@code null}
 * both when the ring is empty and when the next index is reserved but its item has not landed yet: the channel tells
 * the two apart by that count.
 *
 * <p>Implementations differ by how many threads receive at once, which the channel's {@link ChannelShape} promises;
 * any number may put, each with an index of its own.
 */
abstract class ItemRing<T> extends ItemRingPadAfter {

    /** While waiting for another thread's next few instructions, yield the carrier every this many spins. */
    static final int SPINS_PER_YIELD = 32;

    private final int slots;

    /** {@code slots}: a power of two, at least the capacity the ring is built for. */
    ItemRing(int slots) {
        this.slots = slots;
    }

    /**
     * Stores the item of reservation {@code index}. The caller holds that reservation: the channel admitted it, so
     * fewer than the channel's capacity items are buffered or in flight before it. Waits, spinning, only while a
     * receiver that claimed the slot's previous item has not released it.
     */
    abstract void put(long index, T item);

    /**
     * Takes the item at the consumer index if it has landed; {@code null} if the ring is empty or that item is still
     * being put. Single-consumer rings must be polled by one thread at a time.
     *
     * @param yieldOnLostRace on a ring with several receivers, whether a receiver that loses its claim to another
     *     receiver lets its carrier go before it tries again ({@link #afterLostRace()}), or tries again at once (the
     *     paths that promise not to wait, and the rest of a batch). A single-consumer ring makes no claim and
     *     ignores it.
     */
    abstract T poll(boolean yieldOnLostRace);

    /**
     * Whether a {@link #poll(boolean)} that returns an item has advanced the consumer index with a compare-and-set, a
     * volatile read and write: the poller's later volatile reads are then ordered after the advance (the
     * synchronization order is total and consistent with program order), as they would be behind a full fence, and the
     * channel's handshakes need no fence of their own. {@code false} if the advance is a release store.
     */
    abstract boolean pollIsVolatileWrite();

    /** Items ever claimed by receivers. A volatile read; never ahead of the reservations the channel granted. */
    long consumerIndex() {
        return consumerIndex;
    }

    /** The number of slots: a power of two, at least the capacity the ring was built for. */
    final int slots() {
        return slots;
    }

    /** Waiting for another thread's next few instructions: spin, and now and then let the carrier go. */
    static void spinOrYield(int spins) {
        if (spins % SPINS_PER_YIELD == 0) {
            Thread.yield();
        } else {
            Thread.onSpinWait();
        }
    }

    /**
     * After losing a compare-and-set to another thread of the same side (a sender to a sender, a receiver to a
     * receiver): a virtual thread yields its carrier before it tries again; a platform thread tries again at once.
     * The winner runs on another carrier, and while two carriers run threads of the same side they fight over one
     * cache line for every item. Yielding hands the carrier to a thread queued behind the loser, most often one of
     * the other side, which moves items instead (ADR 0014). Progress is unchanged: a lost race means another
     * thread's operation succeeded (or, for a sender, a close or fail came). Callers yield only on paths that may
     * wait anyway, never on those that promise not to ({@code trySend}, {@code tryReceive}, {@code drainTo}).
     */
    static void afterLostRace() {
        if (Thread.currentThread().isVirtual()) {
            if (ChannelProbe.ENABLED) {
                ChannelProbe.lostRace();
            }
            Thread.yield();
        }
    }

    /** {@link ItemRingConsumer#consumerIndex}, for the subclasses' release stores and compare-and-sets. */
    static final VarHandle CONSUMER_INDEX;

    static {
        try {
            CONSUMER_INDEX = MethodHandles.lookup().findVarHandle(ItemRingConsumer.class, "consumerIndex", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The smallest power of two at least {@code n} (1 to 2^30). */
    static int powerOfTwoAtLeast(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }
}

/** Cache-line padding before the consumer index, so that nothing the senders write shares its line. */
abstract class ItemRingPadBefore {
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/** The receivers' hot field. */
abstract class ItemRingConsumer extends ItemRingPadBefore {
    /** Items ever claimed by receivers; written by receivers only, through a VarHandle in the subclasses. */
    volatile long consumerIndex;
}

/** Padding after the consumer index. */
abstract class ItemRingPadAfter extends ItemRingConsumer {
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
}
