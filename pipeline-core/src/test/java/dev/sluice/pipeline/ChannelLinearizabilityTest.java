package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.BoundedChannel;
import dev.sluice.pipeline.internal.ChannelShape;
import java.util.ArrayDeque;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Lincheck model checking of the fast channel's non-blocking operations against a plain sequential queue: every
 * interleaving Lincheck explores of trySend, tryReceive, close and the state queries must be explainable by some
 * sequential order. This covers the reservation protocol (exact capacity, close versus a concurrent send) at a
 * capacity that is not a power of two, where the channel rather than JCTools enforces it, and fail racing the
 * rest (a failed channel must never pass for a closed one). The reference channel is checked against the same
 * specification.
 */
class ChannelLinearizabilityTest {

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class ManyToMany {
        private final Channel<Integer> channel = BoundedChannel.create(3, Overflow.BLOCK, null, ChannelShape.MPMC);

        @Operation
        public boolean trySend(@Param(name = "item") int item) {
            return channel.trySend(item);
        }

        @Operation
        public Integer tryReceive() {
            return channel.tryReceive();
        }

        @Operation
        public boolean close() {
            return channel.close();
        }

        @Operation
        public boolean isClosedForReceive() {
            return channel.isClosedForReceive();
        }

        @Operation
        public boolean fail() {
            return channel.fail(CAUSE);
        }
    }

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class Reference {
        private final Channel<Integer> channel = Channel.backedByBlockingQueue(3, Overflow.BLOCK, null);

        @Operation
        public boolean trySend(@Param(name = "item") int item) {
            return channel.trySend(item);
        }

        @Operation
        public Integer tryReceive() {
            return channel.tryReceive();
        }

        @Operation
        public boolean close() {
            return channel.close();
        }

        @Operation
        public boolean isClosedForReceive() {
            return channel.isClosedForReceive();
        }

        @Operation
        public boolean fail() {
            return channel.fail(CAUSE);
        }
    }

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class OneToOne {
        private final Channel<Integer> channel = BoundedChannel.create(3, Overflow.BLOCK, null, ChannelShape.SPSC);

        @Operation(nonParallelGroup = "producer")
        public boolean trySend(@Param(name = "item") int item) {
            return channel.trySend(item);
        }

        @Operation(nonParallelGroup = "consumer")
        public Integer tryReceive() {
            return channel.tryReceive();
        }

        @Operation
        public boolean close() {
            return channel.close();
        }
    }

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class DropOldest {
        private final Channel<Integer> channel = Channel.bounded(3, Overflow.DROP_OLDEST);

        @Operation
        public boolean trySend(@Param(name = "item") int item) {
            return channel.trySend(item);
        }

        @Operation
        public Integer tryReceive() {
            return channel.tryReceive();
        }
    }

    static final RuntimeException CAUSE = new RuntimeException("failed by the test");

    /** The sequential specification: a bounded FIFO of 3 with closed and failed flags. */
    public static class SequentialQueue {
        private final ArrayDeque<Integer> items = new ArrayDeque<>();
        private boolean closed;
        private boolean failed;

        public boolean trySend(int item) {
            if (failed) {
                throw new ChannelFailedException(CAUSE);
            }
            if (closed) {
                throw new ChannelClosedException("closed");
            }
            if (items.size() == 3) {
                return false;
            }
            items.add(item);
            return true;
        }

        public Integer tryReceive() {
            if (failed) {
                throw new ChannelFailedException(CAUSE);
            }
            Integer item = items.poll();
            if (item == null && closed) {
                throw new ChannelClosedException("drained");
            }
            return item;
        }

        public boolean close() {
            boolean was = closed;
            closed = true;
            return !was;
        }

        public boolean isClosedForReceive() {
            return failed || (closed && items.isEmpty());
        }

        public boolean fail() {
            if (failed || (closed && items.isEmpty())) {
                return false;
            }
            failed = true;
            closed = true;
            return true;
        }
    }

    /** DROP_OLDEST: a full queue evicts its head and takes the item. */
    public static class SequentialDropOldest {
        private final ArrayDeque<Integer> items = new ArrayDeque<>();

        public boolean trySend(int item) {
            if (items.size() == 3) {
                items.poll();
            }
            items.add(item);
            return true;
        }

        public Integer tryReceive() {
            return items.poll();
        }
    }

    @Test
    @Timeout(300)
    void manyToManyIsLinearizable() {
        new ModelCheckingOptions()
                .sequentialSpecification(SequentialQueue.class)
                .iterations(12)
                .invocationsPerIteration(400)
                .threads(3)
                .actorsPerThread(3)
                .check(ManyToMany.class);
    }

    @Test
    @Timeout(300)
    void theReferenceChannelIsLinearizable() {
        new ModelCheckingOptions()
                .sequentialSpecification(SequentialQueue.class)
                .iterations(12)
                .invocationsPerIteration(400)
                .threads(3)
                .actorsPerThread(3)
                .check(Reference.class);
    }

    @Test
    @Timeout(300)
    void oneToOneIsLinearizable() {
        new ModelCheckingOptions()
                .sequentialSpecification(SequentialQueue.class)
                .iterations(12)
                .invocationsPerIteration(400)
                .threads(2)
                .actorsPerThread(4)
                .check(OneToOne.class);
    }

    @Test
    @Timeout(300)
    void dropOldestIsLinearizable() {
        new ModelCheckingOptions()
                .sequentialSpecification(SequentialDropOldest.class)
                .iterations(12)
                .invocationsPerIteration(400)
                .threads(3)
                .actorsPerThread(3)
                .check(DropOldest.class);
    }
}
