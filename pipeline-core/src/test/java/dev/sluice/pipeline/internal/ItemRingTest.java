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
 * exactly as the {@code atomic} ones) and every shape, with as many threads on each side as the shape allows. Each
 * item carries its index and its sender: Sluice's rings hand items out in index order; JCTools' queues keep an order
 * of their own, which keeps each sender's.
 */
class ItemRingTest {

    private static final int ITEMS_PER_SENDER = 20_000;
    /** Items carry {@code index * SENDERS_MAX + sender}. */
    private static final int SENDERS_MAX = 4;

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
                        ring.put(r, r * SENDERS_MAX + sender);
                        n++;
                    }
                }
            }));
        }
        for (int c = 0; c < receivers; c++) {
            List<Long> mine = new ArrayList<>();
            received.add(mine);
            threads.add(Thread.ofPlatform().start(() -> {
                while (taken.get() < total) {
                    Long item = ring.poll(false);
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

        // then every index came out once; each receiver saw each sender's items in the order sent and, from
        // Sluice's rings, every index in order (with one receiver: index k as the k-th item); the consumer index
        // counts them all
        boolean ownRing = flavour.equals("sluice");
        boolean[] seen = new boolean[(int) total];
        for (List<Long> mine : received) {
            long[] lastBySender = new long[senders];
            Arrays.fill(lastBySender, -1);
            long lastIndex = -1;
            for (int k = 0; k < mine.size(); k++) {
                long item = mine.get(k);
                int index = (int) (item / SENDERS_MAX);
                int sender = (int) (item % SENDERS_MAX);
                assertThat(seen[index]).as("index %d taken twice", index).isFalse();
                seen[index] = true;
                assertThat(index).as("sender %d's order", sender).isGreaterThan((int) lastBySender[sender]);
                lastBySender[sender] = index;
                if (ownRing) {
                    assertThat(index).as("index order").isGreaterThan((int) lastIndex);
                    if (receivers == 1) {
                        assertThat(index).as("the item of poll %d", k).isEqualTo(k);
                    }
                }
                lastIndex = index;
            }
        }
        assertThat(received.stream().mapToInt(List::size).sum()).isEqualTo((int) total);
        assertThat(ring.consumerIndex()).isEqualTo(total);
        assertThat(ring.poll(false)).isNull();
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
