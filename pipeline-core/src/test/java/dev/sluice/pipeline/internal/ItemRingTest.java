package dev.sluice.pipeline.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The rings on their own, driven the way {@link BoundedChannel} drives them: senders take an index with a
 * compare-and-set on a shared count, only while fewer than the capacity are buffered or in flight, and put at that
 * index; receivers poll. Every flavour but {@code unsafe} (JCTools' {@code Unsafe} queues, which the adapter drives
 * exactly as the {@code atomic} ones) and every shape, with as many threads on each side as the shape allows.
 */
class ItemRingTest {

    private static final int ITEMS_PER_SENDER = 20_000;

    static Stream<Arguments> rings() {
        List<Arguments> all = new ArrayList<>();
        for (String flavour : List.of("sluice", "atomic")) {
            for (ChannelShape shape : ChannelShape.values()) {
                for (int capacity : new int[] {1, 3, 16}) {
                    all.add(Arguments.of(flavour, shape, capacity));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1} capacity {2}")
    @MethodSource("rings")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void everyItemIsTakenOnceAndEachSendersItemsInOrder(String flavour, ChannelShape shape, int capacity)
            throws InterruptedException {
        // given a ring and the channel's admission rule around it
        ItemRing<Long> ring = RingBuffers.create(flavour, shape, capacity);
        int senders = shape.singleProducer() ? 1 : 3;
        int receivers = shape.singleConsumer() ? 1 : 3;
        long total = (long) senders * ITEMS_PER_SENDER;
        AtomicLong reservations = new AtomicLong();
        AtomicLong taken = new AtomicLong();
        List<List<Long>> received = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();

        // when senders put and receivers poll at once
        for (int s = 0; s < senders; s++) {
            long sender = s;
            threads.add(Thread.ofPlatform().start(() -> {
                for (long n = 0; n < ITEMS_PER_SENDER; ) {
                    long r = reservations.get();
                    if (r - ring.consumerIndex() >= capacity) {
                        Thread.yield();
                    } else if (reservations.compareAndSet(r, r + 1)) {
                        ring.put(r, sender * ITEMS_PER_SENDER + n++);
                    }
                }
            }));
        }
        for (int c = 0; c < receivers; c++) {
            List<Long> mine = new ArrayList<>();
            received.add(mine);
            threads.add(Thread.ofPlatform().start(() -> {
                while (taken.get() < total) {
                    Long item = ring.poll();
                    if (item == null) {
                        Thread.yield();
                    } else {
                        mine.add(item);
                        taken.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }

        // then every item came out once, each receiver saw each sender's items in the order sent, and the
        // consumer index counts them all
        boolean[] seen = new boolean[(int) total];
        for (List<Long> mine : received) {
            long[] lastBySender = new long[senders];
            Arrays.fill(lastBySender, -1);
            for (long item : mine) {
                assertThat(seen[(int) item]).as("item %d taken twice", item).isFalse();
                seen[(int) item] = true;
                int sender = (int) (item / ITEMS_PER_SENDER);
                assertThat(item).as("sender %d's order", sender).isGreaterThan(lastBySender[sender]);
                lastBySender[sender] = item;
            }
        }
        assertThat(received.stream().mapToInt(List::size).sum()).isEqualTo((int) total);
        assertThat(ring.consumerIndex()).isEqualTo(total);
        assertThat(ring.poll()).isNull();
    }

    @Test
    void ringsHoldAPowerOfTwoOfSlotsAndMultiConsumerRingsTwiceTheCapacity() {
        assertThat(RingBuffers.create("sluice", ChannelShape.SPSC, 1).slots()).isEqualTo(1);
        assertThat(RingBuffers.create("sluice", ChannelShape.MPSC, 3).slots()).isEqualTo(4);
        assertThat(RingBuffers.create("sluice", ChannelShape.MPMC, 3).slots()).isEqualTo(8);
        assertThat(RingBuffers.create("sluice", ChannelShape.SPMC, 16).slots()).isEqualTo(32);
        assertThat(RingBuffers.create("sluice", ChannelShape.MPMC, 1).slots()).isEqualTo(2);
    }

    @Test
    void anUnknownFlavourIsRefusedByName() {
        assertThatThrownBy(() -> RingBuffers.create("fast", ChannelShape.MPMC, 16))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("system property sluice.channel.queues is 'fast'; expected sluice (the default), atomic"
                        + " or unsafe");
    }

    @Test
    void theDefaultFlavourIsSluicesOwnRing() {
        // The surefire JVM sets no sluice.channel.queues property.
        assertThat(RingBuffers.flavour()).isEqualTo("sluice");
        assertThat(RingBuffers.<Object>create(ChannelShape.MPMC, 16)).isInstanceOf(MultiConsumerRing.class);
        assertThat(RingBuffers.<Object>create(ChannelShape.MPSC, 16)).isInstanceOf(SingleConsumerRing.class);
    }
}
