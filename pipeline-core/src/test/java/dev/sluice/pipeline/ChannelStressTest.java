package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.ChannelFixtures.Impl;
import dev.sluice.pipeline.internal.ChannelShape;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Many threads through one channel: no item lost, none duplicated, each producer's items in order, no thread
 * left hanging. Each case moves at least a million items; a lost wake-up shows as a timeout.
 */
class ChannelStressTest {

    private static final int ITEMS = 1_000_000;

    static Stream<Arguments> topologies() {
        List<Arguments> all = new ArrayList<>();
        for (boolean virtual : new boolean[] {true, false}) {
            for (ChannelShape shape : ChannelShape.values()) {
                int producers = shape.singleProducer() ? 1 : 4;
                int consumers = shape.singleConsumer() ? 1 : 4;
                all.add(Arguments.of(ChannelFixtures.bounded(shape), producers, consumers, 16, virtual));
            }
            all.add(Arguments.of(ChannelFixtures.bounded(ChannelShape.MPMC), 8, 8, 1, virtual));
            all.add(Arguments.of(ChannelFixtures.blockingQueue(), 4, 4, 16, virtual));
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1}x{2} capacity {3} virtual={4}")
    @MethodSource("topologies")
    @Timeout(120)
    void everyItemArrivesExactlyOnceAndInProducerOrder(
            Impl impl, int producers, int consumers, int capacity, boolean virtual) throws Exception {
        // given
        Channel<Long> ch = impl.make(capacity);
        ThreadFactory threads =
                virtual ? Thread.ofVirtual().factory() : Thread.ofPlatform().factory();
        int perProducer = ITEMS / producers;
        AtomicInteger producing = new AtomicInteger(producers);
        AtomicLong count = new AtomicLong();
        AtomicLong sum = new AtomicLong();
        AtomicLong sumOfSquares = new AtomicLong();
        AtomicInteger outOfOrder = new AtomicInteger();
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();

        // when
        try (Scope scope = Scope.builder().threadFactory(threads).open()) {
            for (int p = 0; p < producers; p++) {
                int producer = p;
                scope.fork("producer-" + p, () -> {
                    boolean batched = producer % 2 == 1;
                    List<Long> group = new ArrayList<>();
                    for (long seq = 0; seq < perProducer; seq++) {
                        long item = ((long) producer << 40) | seq;
                        if (batched) {
                            group.add(item);
                            if (group.size() == 7) {
                                ch.sendAll(group);
                                group.clear();
                            }
                        } else {
                            ch.send(item);
                        }
                    }
                    ch.sendAll(group);
                    if (producing.decrementAndGet() == 0) {
                        ch.close();
                    }
                    return null;
                });
            }
            for (int c = 0; c < consumers; c++) {
                int consumer = c;
                scope.fork("consumer-" + c, () -> {
                    long[] lastSeq = new long[producers];
                    java.util.Arrays.fill(lastSeq, -1);
                    long n = 0;
                    long s = 0;
                    long sq = 0;
                    List<Long> group = new ArrayList<>();
                    try {
                        for (; ; ) {
                            if (consumer % 2 == 1) {
                                group.clear();
                                ch.receiveMany(group, 5);
                            } else {
                                group.clear();
                                group.add(ch.receive());
                            }
                            for (long item : group) {
                                int producer = (int) (item >>> 40);
                                long seq = item & ((1L << 40) - 1);
                                if (seq <= lastSeq[producer]) {
                                    outOfOrder.incrementAndGet();
                                }
                                lastSeq[producer] = seq;
                                n++;
                                s += item;
                                sq += item * item;
                            }
                        }
                    } catch (ChannelFailedException e) {
                        errors.add(e);
                    } catch (ChannelClosedException end) {
                        // done
                    }
                    count.addAndGet(n);
                    sum.addAndGet(s);
                    sumOfSquares.addAndGet(sq);
                    return null;
                });
            }
            scope.join();
        }

        // then
        long expectedSum = 0;
        long expectedSquares = 0;
        for (long p = 0; p < producers; p++) {
            for (long seq = 0; seq < perProducer; seq++) {
                long item = (p << 40) | seq;
                expectedSum += item;
                expectedSquares += item * item;
            }
        }
        assertThat(errors).isEmpty();
        assertThat(count.get()).isEqualTo((long) perProducer * producers);
        assertThat(sum.get()).isEqualTo(expectedSum);
        assertThat(sumOfSquares.get()).isEqualTo(expectedSquares);
        assertThat(outOfOrder.get()).isZero();
        assertThat(ch.isClosedForReceive()).isTrue();
    }

    @Test
    @Timeout(60)
    void pingPongAtCapacityOneNeverLosesAWakeUp() throws Exception {
        // Two threads hand a token back and forth: every hand-off parks and wakes someone.
        for (Impl impl : List.of(
                ChannelFixtures.bounded(ChannelShape.SPSC),
                ChannelFixtures.bounded(ChannelShape.MPMC),
                ChannelFixtures.blockingQueue())) {
            Channel<Integer> ping = impl.make(1);
            Channel<Integer> pong = impl.make(1);
            int rounds = 100_000;
            try (Scope scope = Scope.open()) {
                scope.fork("ponger", () -> {
                    for (int i = 0; i < rounds; i++) {
                        pong.send(ping.receive() + 1);
                    }
                    return null;
                });
                int value = 0;
                for (int i = 0; i < rounds; i++) {
                    ping.send(value);
                    value = pong.receive();
                }
                scope.join();
                assertThat(value).as(impl.name()).isEqualTo(rounds);
            }
        }
    }

    @Test
    @Timeout(90)
    void closeRacingWaitingSendersAndReceiversLosesNothing() throws Exception {
        for (Impl impl : List.of(ChannelFixtures.bounded(ChannelShape.MPMC), ChannelFixtures.blockingQueue())) {
            for (int round = 0; round < 300; round++) {
                Channel<Integer> ch = impl.make(2);
                AtomicLong sent = new AtomicLong();
                AtomicLong received = new AtomicLong();
                try (Scope scope = Scope.open()) {
                    for (int s = 0; s < 4; s++) {
                        scope.fork(() -> {
                            try {
                                for (; ; ) {
                                    ch.send(1);
                                    sent.incrementAndGet();
                                }
                            } catch (ChannelClosedException closed) {
                                return null;
                            }
                        });
                    }
                    for (int r = 0; r < 3; r++) {
                        scope.fork(() -> {
                            try {
                                for (; ; ) {
                                    ch.receive();
                                    received.incrementAndGet();
                                }
                            } catch (ChannelClosedException closed) {
                                return null;
                            }
                        });
                    }
                    // Let them collide for a moment, at a different point each round.
                    long until = System.nanoTime() + ThreadLocalRandom.current().nextLong(50_000, 2_000_000);
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                    ch.close();
                    scope.join();
                }
                assertThat(received.get()).as("%s round %d", impl.name(), round).isEqualTo(sent.get());
            }
        }
    }

    @Test
    @Timeout(90)
    void failRacingWaitingSendersAndReceiversEndsEveryone() throws Exception {
        for (Impl impl : List.of(ChannelFixtures.bounded(ChannelShape.MPMC), ChannelFixtures.blockingQueue())) {
            for (int round = 0; round < 300; round++) {
                Channel<Integer> ch = impl.make(1);
                AtomicLong sent = new AtomicLong();
                AtomicLong received = new AtomicLong();
                RuntimeException cause = new RuntimeException("round " + round);
                AtomicInteger sawCause = new AtomicInteger();
                try (Scope scope = Scope.open()) {
                    for (int t = 0; t < 3; t++) {
                        scope.fork(() -> {
                            try {
                                for (; ; ) {
                                    ch.send(1);
                                    sent.incrementAndGet();
                                }
                            } catch (ChannelFailedException e) {
                                if (e.getCause() == cause) {
                                    sawCause.incrementAndGet();
                                }
                                return null;
                            }
                        });
                        scope.fork(() -> {
                            try {
                                for (; ; ) {
                                    ch.receive();
                                    received.incrementAndGet();
                                }
                            } catch (ChannelFailedException e) {
                                if (e.getCause() == cause) {
                                    sawCause.incrementAndGet();
                                }
                                return null;
                            }
                        });
                    }
                    long until = System.nanoTime() + ThreadLocalRandom.current().nextLong(50_000, 2_000_000);
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                    ch.fail(cause);
                    scope.join();
                }
                assertThat(sawCause.get()).as("every thread saw the cause").isEqualTo(6);
                assertThat(received.get()).isLessThanOrEqualTo(sent.get());
            }
        }
    }

    @Test
    @Timeout(120)
    void interruptedSendsAndReceivesLeaveTheChannelConsistent() throws Exception {
        // Senders and receivers are interrupted at random while they work. An interrupted send must not have
        // sent, an interrupted receive must not have taken: every item whose send returned is received exactly
        // once, and no other item is.
        for (Impl impl : ChannelFixtures.impls()) {
            if (impl.shape() != ChannelShape.MPMC) {
                continue;
            }
            for (int capacity : new int[] {1, 16}) {
                int producers = 4;
                int perProducer = 50_000;
                Channel<Integer> ch = impl.make(capacity);
                BitSet sent = new BitSet(producers * perProducer);
                BitSet received = new BitSet(producers * perProducer);
                ReentrantLock sentLock = new ReentrantLock();
                ReentrantLock receivedLock = new ReentrantLock();
                AtomicInteger duplicates = new AtomicInteger();
                AtomicInteger producing = new AtomicInteger(producers);
                AtomicBoolean interrupting = new AtomicBoolean(true);
                List<Thread> workers = new java.util.concurrent.CopyOnWriteArrayList<>();
                try (Scope scope = Scope.open()) {
                    for (int p = 0; p < producers; p++) {
                        int base = p * perProducer;
                        scope.fork(() -> {
                            workers.add(Thread.currentThread());
                            for (int i = 0; i < perProducer; ) {
                                try {
                                    ch.send(base + i);
                                } catch (InterruptedException e) {
                                    continue; // not sent: try the same item again
                                }
                                sentLock.lock();
                                try {
                                    sent.set(base + i);
                                } finally {
                                    sentLock.unlock();
                                }
                                i++;
                            }
                            if (producing.decrementAndGet() == 0) {
                                interrupting.set(false);
                                ch.close();
                            }
                            return null;
                        });
                    }
                    for (int c = 0; c < 3; c++) {
                        scope.fork(() -> {
                            workers.add(Thread.currentThread());
                            for (; ; ) {
                                int item;
                                try {
                                    item = ch.receive();
                                } catch (InterruptedException e) {
                                    continue;
                                } catch (ChannelClosedException end) {
                                    Thread.interrupted();
                                    return null;
                                }
                                receivedLock.lock();
                                try {
                                    if (received.get(item)) {
                                        duplicates.incrementAndGet();
                                    }
                                    received.set(item);
                                } finally {
                                    receivedLock.unlock();
                                }
                            }
                        });
                    }
                    scope.fork("interrupter", () -> {
                        ThreadLocalRandom random = ThreadLocalRandom.current();
                        while (interrupting.get()) {
                            if (!workers.isEmpty()) {
                                workers.get(random.nextInt(workers.size())).interrupt();
                            }
                            Thread.yield();
                        }
                        return null;
                    });
                    scope.join();
                }
                assertThat(duplicates.get())
                        .as("%s capacity %d duplicates", impl.name(), capacity)
                        .isZero();
                assertThat(received).as("%s capacity %d", impl.name(), capacity).isEqualTo(sent);
                assertThat(sent.cardinality()).isEqualTo(producers * perProducer);
            }
        }
    }
}
