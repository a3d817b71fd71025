package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.ChannelShape;
import dev.sluice.pipeline.internal.Link;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/** The channel implementations under test, and the capacities every contract test runs at. */
public final class ChannelFixtures {

    /** The smallest capacity, a tiny power of two, a small one and a large one. */
    public static final int[] CAPACITIES = {1, 2, 16, 1024};

    private ChannelFixtures() {}

    /** Makes channels of one implementation. */
    public interface Maker {
        <T> Channel<T> make(int capacity, Overflow overflow, Consumer<? super T> onDrop);
    }

    /** One implementation: a readable name and how to make it. */
    public record Impl(String name, Maker maker, ChannelShape shape) {
        public <T> Channel<T> make(int capacity) {
            return maker.make(capacity, Overflow.BLOCK, null);
        }

        public <T> Channel<T> make(int capacity, Overflow overflow) {
            return maker.make(capacity, overflow, null);
        }

        public <T> Channel<T> make(int capacity, Overflow overflow, Consumer<? super T> onDrop) {
            return maker.make(capacity, overflow, onDrop);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    public static Impl bounded(ChannelShape shape) {
        return new Impl(
                "bounded-" + shape.name().toLowerCase(java.util.Locale.ROOT),
                new Maker() {
                    @Override
                    public <T> Channel<T> make(int capacity, Overflow overflow, Consumer<? super T> onDrop) {
                        return Link.create(capacity, overflow, onDrop, shape);
                    }
                },
                shape);
    }

    public static Impl blockingQueue() {
        return new Impl(
                "blocking-queue",
                new Maker() {
                    @Override
                    public <T> Channel<T> make(int capacity, Overflow overflow, Consumer<? super T> onDrop) {
                        return Channel.backedByBlockingQueue(capacity, overflow, onDrop);
                    }
                },
                ChannelShape.MPMC);
    }

    /** Every implementation: each shape of the fast channel, and the reference. */
    public static List<Impl> impls() {
        List<Impl> all = new ArrayList<>();
        for (ChannelShape shape : ChannelShape.values()) {
            all.add(bounded(shape));
        }
        all.add(blockingQueue());
        return all;
    }

    /** Every implementation at every capacity: the arguments of {@link ChannelTest}. */
    public static Stream<Arguments> implsAndCapacities() {
        List<Arguments> all = new ArrayList<>();
        for (Impl impl : impls()) {
            for (int capacity : CAPACITIES) {
                all.add(Arguments.of(impl, capacity));
            }
        }
        return all.stream();
    }
}
