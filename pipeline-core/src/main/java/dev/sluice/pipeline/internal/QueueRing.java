package dev.sluice.pipeline.internal;

import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.QueueProgressIndicators;

/**
 * A JCTools array queue as an {@link ItemRing}, for measuring against Sluice's own rings (the flavours of
 * {@link RingBuffers}). The queue keeps its own producer index, so a put ignores the reservation's index and the
 * queue's offer pays a second atomic operation on multi-producer shapes.
 */
final class QueueRing<T> extends ItemRing<T> {

    private final MessagePassingQueue<T> queue;
    private final QueueProgressIndicators progress;

    QueueRing(MessagePassingQueue<T> queue, int slots) {
        super(slots);
        this.queue = queue;
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
    T poll() {
        return queue.poll();
    }

    @Override
    long consumerIndex() {
        return progress.currentConsumerIndex();
    }
}
