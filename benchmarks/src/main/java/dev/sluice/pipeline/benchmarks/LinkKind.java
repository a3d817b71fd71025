package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.Channel;
import dev.sluice.pipeline.Overflow;
import dev.sluice.pipeline.internal.BoundedChannel;
import dev.sluice.pipeline.internal.ChannelShape;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/** The bounded queues the benchmarks compare, each behind the same {@link Link} adapter. */
enum LinkKind {
    /**
     * Sluice's single-producer/single-consumer channel: what a pipeline puts between two single-threaded stages.
     * Only for links with one sending and one receiving thread.
     */
    SLUICE_SPSC(true) {
        @Override
        <T> Link<T> create(int capacity) {
            return of(BoundedChannel.<T>create(capacity, Overflow.BLOCK, null, ChannelShape.SPSC));
        }
    },
    /** Sluice's public channel, {@link Channel#bounded(int)}: any number of senders and receivers. */
    SLUICE_MPMC(false) {
        @Override
        <T> Link<T> create(int capacity) {
            return of(Channel.<T>bounded(capacity));
        }
    },
    /** Sluice's reference channel on a lock and an {@code ArrayBlockingQueue}: the oracle of its tests. */
    SLUICE_REFERENCE(false) {
        @Override
        <T> Link<T> create(int capacity) {
            return of(Channel.<T>backedByBlockingQueue(capacity, Overflow.BLOCK, null));
        }
    },
    ARRAY_BLOCKING_QUEUE(false) {
        @Override
        <T> Link<T> create(int capacity) {
            return of(new ArrayBlockingQueue<T>(capacity));
        }
    },
    LINKED_BLOCKING_QUEUE(false) {
        @Override
        <T> Link<T> create(int capacity) {
            return of(new LinkedBlockingQueue<T>(capacity));
        }
    },
    /** jox's buffered channel (com.softwaremill.jox 1.0.1), made for virtual threads. */
    JOX(false) {
        @Override
        <T> Link<T> create(int capacity) {
            com.softwaremill.jox.Channel<T> channel = com.softwaremill.jox.Channel.newBufferedChannel(capacity);
            return new Link<>() {
                @Override
                public void send(T item) throws InterruptedException {
                    channel.send(item);
                }

                @Override
                public T receive() throws InterruptedException {
                    return channel.receive();
                }
            };
        }
    };

    private final boolean singleProducerSingleConsumer;

    LinkKind(boolean singleProducerSingleConsumer) {
        this.singleProducerSingleConsumer = singleProducerSingleConsumer;
    }

    /** A new, empty link of this kind holding at most {@code capacity} items. */
    abstract <T> Link<T> create(int capacity);

    /**
     * A link for the given numbers of sending and receiving threads.
     *
     * @throws IllegalArgumentException if this kind allows one of each only and more were asked for
     */
    <T> Link<T> create(int capacity, int producers, int consumers) {
        if (singleProducerSingleConsumer && (producers > 1 || consumers > 1)) {
            throw new IllegalArgumentException(this + " allows one producer and one consumer, not " + producers
                    + " and " + consumers + ": it would corrupt its items silently");
        }
        return create(capacity);
    }

    private static <T> Link<T> of(Channel<T> channel) {
        return new Link<>() {
            @Override
            public void send(T item) throws InterruptedException {
                channel.send(item);
            }

            @Override
            public T receive() throws InterruptedException {
                return channel.receive();
            }
        };
    }

    private static <T> Link<T> of(BlockingQueue<T> queue) {
        return new Link<>() {
            @Override
            public void send(T item) throws InterruptedException {
                queue.put(item);
            }

            @Override
            public T receive() throws InterruptedException {
                return queue.take();
            }
        };
    }
}
