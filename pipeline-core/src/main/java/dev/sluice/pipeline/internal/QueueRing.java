package dev.sluice.pipeline.internal;

import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.QueueProgressIndicators;

/**
 * A JCTools array queue as an {@link ItemRing}, for measuring against Sluice's own rings (the flavours of
 * {@link RingBuffers}). The queue keeps its own producer index, so a put ignores the reservation's index and the
 * queue's offer pays a second atomic operation on multi-producer shapes. Its receivers retry a lost claim inside the
 * queue, so they never yield for it ({@link #afterLostRace()}); its senders do, in the channel's reservation.
 */
final class QueueRing<T> extends ItemRing<T> {

    private final MessagePassingQueue<T> queue;
    private final QueueProgressIndicators progress;
    private final boolean multiConsumer;

    QueueRing(MessagePassingQueue<T> queue, int slots, boolean multiConsumer) {
        super(slots);
        this.queue = queue;
        this.multiConsumer = multiConsumer;
        this.progress = (QueueProgressIndicators) queue;
    }

    /** Offers the item; the room is there, bar a multi-consumer queue's transient claimed slot, which it waits out. */
    @Override
    void put(long index, T item) {
        if (queue.offer(item)) {
            return;
        }
        int spins = 0;
        while (!queue.offer(item)) {
            spinOrYield(++spins);
        }
    }

    @Override
    T poll(boolean yieldOnLostRace) {
        return queue.poll();
    }

    /** JCTools' multi-consumer queues claim with a compare-and-set; its single-consumer queues store with release. */
    @Override
    boolean pollIsVolatileWrite() {
        return multiConsumer;
    }

    @Override
    long consumerIndex() {
        return progress.currentConsumerIndex();
    }
}
