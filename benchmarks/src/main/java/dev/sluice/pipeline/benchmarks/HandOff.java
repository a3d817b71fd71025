package dev.sluice.pipeline.benchmarks;

import java.util.concurrent.atomic.AtomicLongArray;
import org.jctools.queues.SpscArrayQueue;

/**
 * Moving items from producers to consumers through one link, one item per call: benchmarks 1 (one producer, one
 * consumer), 2 (many to many) and the spinning limit.
 */
final class HandOff {

    private HandOff() {}

    /**
     * One producer sends every item, one consumer receives them all; both block on the link when they must.
     *
     * @return the sum of the items received, checked
     */
    static long oneToOne(Link<Long> link, ThreadKind threads, Long[] items) throws InterruptedException {
        long[] sum = new long[1];
        new Workers(threads)
                .add("producer", () -> {
                    for (Long item : items) {
                        link.send(item);
                    }
                })
                .add("consumer", () -> {
                    long s = 0;
                    for (int i = 0; i < items.length; i++) {
                        s += link.receive();
                    }
                    sum[0] = s; // published to the caller by Thread.join
                })
                .runAll();
        return Items.expect("sum of the items received", Items.sumOfRange(0, items.length), sum[0]);
    }

    /**
     * {@code producers} threads each send a contiguous share of the items, {@code consumers} threads each receive
     * an equal share, all through the same link.
     *
     * @return the sum of the items received, checked
     * @throws IllegalArgumentException unless both counts divide the number of items
     */
    static long manyToMany(Link<Long> link, ThreadKind threads, int producers, int consumers, Long[] items)
            throws InterruptedException {
        if (items.length % producers != 0 || items.length % consumers != 0) {
            throw new IllegalArgumentException(items.length + " items do not split evenly between " + producers
                    + " producers and " + consumers + " consumers");
        }
        int perProducer = items.length / producers;
        int perConsumer = items.length / consumers;
        AtomicLongArray sums = new AtomicLongArray(consumers);
        Workers workers = new Workers(threads);
        for (int p = 0; p < producers; p++) {
            int from = p * perProducer;
            workers.add("producer-" + p, () -> {
                for (int i = from, end = from + perProducer; i < end; i++) {
                    link.send(items[i]);
                }
            });
        }
        for (int c = 0; c < consumers; c++) {
            int slot = c;
            workers.add("consumer-" + c, () -> {
                long s = 0;
                for (int i = 0; i < perConsumer; i++) {
                    s += link.receive();
                }
                sums.set(slot, s);
            });
        }
        workers.runAll();
        long total = 0;
        for (int c = 0; c < consumers; c++) {
            total += sums.get(c);
        }
        return Items.expect("sum of the items received", Items.sumOfRange(0, items.length), total);
    }

    /**
     * The physical limit of a hand-off here: a JCTools SPSC array queue between two platform threads that spin
     * (never park) while the queue is full or empty. Nothing that lets a thread sleep can be faster; nothing that
     * burns two cores while idle is a fair channel. The spin loops check for interruption only while waiting.
     *
     * @return the sum of the items received, checked
     */
    static long spinning(int capacity, Long[] items) throws InterruptedException {
        SpscArrayQueue<Long> queue = new SpscArrayQueue<>(capacity);
        long[] sum = new long[1];
        new Workers(ThreadKind.PLATFORM)
                .add("producer", () -> {
                    for (Long item : items) {
                        while (!queue.offer(item)) {
                            spinOnce();
                        }
                    }
                })
                .add("consumer", () -> {
                    long s = 0;
                    for (int i = 0; i < items.length; i++) {
                        Long item;
                        while ((item = queue.poll()) == null) {
                            spinOnce();
                        }
                        s += item;
                    }
                    sum[0] = s;
                })
                .runAll();
        return Items.expect("sum of the items received", Items.sumOfRange(0, items.length), sum[0]);
    }

    private static void spinOnce() throws InterruptedException {
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedException();
        }
        Thread.onSpinWait();
    }
}
