package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.BoundedChannel;
import dev.sluice.pipeline.internal.ChannelShape;
import dev.sluice.pipeline.internal.Link;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Lincheck model checking of the channels' non-blocking operations against a plain sequential channel: every
 * interleaving Lincheck explores must be explainable by some sequential order. Each channel kind the library builds
 * is checked: the general channel ({@link Channel#bounded}: the lock-free channel on the multi-consumer ring), the
 * links a pipeline puts between stages ({@link Link#create} with {@link ChannelShape#SPSC}, {@link
 * ChannelShape#MPSC} and {@link ChannelShape#SPMC}: the lock-free channel on the single- or multi-consumer ring,
 * with one sending or one receiving thread at a time where the shape promises it), and the reference ({@link
 * Channel#backedByBlockingQueue}).
 *
 * <p>Besides the general mix, three races each get a test of their own, so that a small operation set makes
 * Lincheck explore them thoroughly:
 * <ul>
 *   <li>{@code close} against {@code fail}: at most one of them wins on a channel that holds nothing;</li>
 *   <li>{@code trySend} under {@link Overflow#DROP_NEWEST} against {@code close}, {@code tryReceive} and
 *       {@code droppedCount}: a drop is counted at the moment it is decided;</li>
 *   <li>{@code receive} with a zero timeout against {@code trySend} and {@code close}: an item already admitted is
 *       never reported missing.</li>
 * </ul>
 */
class ChannelLinearizabilityTest {

    static final RuntimeException CAUSE = new RuntimeException("failed by the test");

    /** The capacity of the general mix: not a power of two, so that the channel, not the ring, enforces it. */
    static final int MIX_CAPACITY = 3;
    /** The capacity of the drop tests: full after one item, so that most sends race a drop. */
    static final int DROP_CAPACITY = 1;

    // ------------------------------------------------------------------------------------ the channel kinds

    static Channel<Integer> general(int capacity, Overflow overflow) {
        return Channel.bounded(capacity, overflow);
    }

    static Channel<Integer> spscLink(int capacity, Overflow overflow) {
        return Link.create(capacity, overflow, null, ChannelShape.SPSC);
    }

    static Channel<Integer> reference(int capacity, Overflow overflow) {
        return Channel.backedByBlockingQueue(capacity, overflow, null);
    }

    static Integer receiveNow(Channel<Integer> channel) throws InterruptedException {
        return channel.receive(Duration.ZERO);
    }

    // ----------------------------------------------------------------------------- the general mix (BLOCK)

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class GeneralMix {
        private final Channel<Integer> channel =
                BoundedChannel.create(MIX_CAPACITY, Overflow.BLOCK, null, ChannelShape.MPMC);

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
    public static class ReferenceMix {
        private final Channel<Integer> channel = reference(MIX_CAPACITY, Overflow.BLOCK);

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
    public static class SpscMix {
        private final Channel<Integer> channel = spscLink(MIX_CAPACITY, Overflow.BLOCK);

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

        @Operation
        public boolean isClosedForReceive() {
            return channel.isClosedForReceive();
        }

        @Operation
        public boolean fail() {
            return channel.fail(CAUSE);
        }
    }

    /** Capacity 1: the multi-consumer ring has two slots, so a scenario's sends wrap it again and again. */
    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class GeneralMixOfOne {
        private final Channel<Integer> channel = BoundedChannel.create(1, Overflow.BLOCK, null, ChannelShape.MPMC);

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
    }

    /** Capacity 1: the single-consumer ring has one slot. */
    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class MpscMixOfOne {
        private final Channel<Integer> channel = Link.create(1, Overflow.BLOCK, null, ChannelShape.MPSC);

        @Operation
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
    public static class MpscMix {
        private final Channel<Integer> channel = Link.create(MIX_CAPACITY, Overflow.BLOCK, null, ChannelShape.MPSC);

        @Operation
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

        @Operation
        public boolean fail() {
            return channel.fail(CAUSE);
        }
    }

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class SpmcMix {
        private final Channel<Integer> channel = Link.create(MIX_CAPACITY, Overflow.BLOCK, null, ChannelShape.SPMC);

        @Operation(nonParallelGroup = "producer")
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
        public boolean fail() {
            return channel.fail(CAUSE);
        }
    }

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class DropOldest {
        private final Channel<Integer> channel = Channel.bounded(MIX_CAPACITY, Overflow.DROP_OLDEST);

        @Operation
        public boolean trySend(@Param(name = "item") int item) {
            return channel.trySend(item);
        }

        @Operation
        public Integer tryReceive() {
            return channel.tryReceive();
        }
    }

    // ------------------------------------------------------------------------------------ close against fail

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class GeneralCloseFail {
        private final Channel<Integer> channel = general(MIX_CAPACITY, Overflow.BLOCK);

        @Operation
        public boolean close() {
            return channel.close();
        }

        @Operation
        public boolean fail() {
            return channel.fail(CAUSE);
        }

        @Operation
        public boolean trySend(@Param(name = "item") int item) {
            return channel.trySend(item);
        }

        @Operation
        public Integer tryReceive() {
            return channel.tryReceive();
        }
    }

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class SpscCloseFail {
        private final Channel<Integer> channel = spscLink(MIX_CAPACITY, Overflow.BLOCK);

        @Operation
        public boolean close() {
            return channel.close();
        }

        @Operation
        public boolean fail() {
            return channel.fail(CAUSE);
        }

        @Operation(nonParallelGroup = "producer")
        public boolean trySend(@Param(name = "item") int item) {
            return channel.trySend(item);
        }

        @Operation(nonParallelGroup = "consumer")
        public Integer tryReceive() {
            return channel.tryReceive();
        }
    }

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class ReferenceCloseFail {
        private final Channel<Integer> channel = reference(MIX_CAPACITY, Overflow.BLOCK);

        @Operation
        public boolean close() {
            return channel.close();
        }

        @Operation
        public boolean fail() {
            return channel.fail(CAUSE);
        }

        @Operation
        public boolean trySend(@Param(name = "item") int item) {
            return channel.trySend(item);
        }

        @Operation
        public Integer tryReceive() {
            return channel.tryReceive();
        }
    }

    // --------------------------------------------------------------------------------------- DROP_NEWEST

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class GeneralDropNewest {
        private final Channel<Integer> channel = general(DROP_CAPACITY, Overflow.DROP_NEWEST);

        @Operation
        public boolean trySend(@Param(name = "item") int item) {
            return channel.trySend(item);
        }

        @Operation
        public boolean close() {
            return channel.close();
        }

        @Operation
        public long droppedCount() {
            return channel.droppedCount();
        }

        @Operation
        public Integer tryReceive() {
            return channel.tryReceive();
        }
    }

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class SpscDropNewest {
        private final Channel<Integer> channel = spscLink(DROP_CAPACITY, Overflow.DROP_NEWEST);

        @Operation(nonParallelGroup = "producer")
        public boolean trySend(@Param(name = "item") int item) {
            return channel.trySend(item);
        }

        @Operation
        public boolean close() {
            return channel.close();
        }

        @Operation
        public long droppedCount() {
            return channel.droppedCount();
        }

        @Operation(nonParallelGroup = "consumer")
        public Integer tryReceive() {
            return channel.tryReceive();
        }
    }

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class ReferenceDropNewest {
        private final Channel<Integer> channel = reference(DROP_CAPACITY, Overflow.DROP_NEWEST);

        @Operation
        public boolean trySend(@Param(name = "item") int item) {
            return channel.trySend(item);
        }

        @Operation
        public boolean close() {
            return channel.close();
        }

        @Operation
        public long droppedCount() {
            return channel.droppedCount();
        }

        @Operation
        public Integer tryReceive() {
            return channel.tryReceive();
        }
    }

    // ----------------------------------------------------------------------------- receive with no time

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class GeneralReceiveNow {
        private final Channel<Integer> channel = general(MIX_CAPACITY, Overflow.BLOCK);

        @Operation
        public boolean trySend(@Param(name = "item") int item) {
            return channel.trySend(item);
        }

        @Operation
        public Integer receiveNow() throws InterruptedException {
            return ChannelLinearizabilityTest.receiveNow(channel);
        }

        @Operation
        public boolean close() {
            return channel.close();
        }
    }

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class SpscReceiveNow {
        private final Channel<Integer> channel = spscLink(MIX_CAPACITY, Overflow.BLOCK);

        @Operation(nonParallelGroup = "producer")
        public boolean trySend(@Param(name = "item") int item) {
            return channel.trySend(item);
        }

        @Operation(nonParallelGroup = "consumer")
        public Integer receiveNow() throws InterruptedException {
            return ChannelLinearizabilityTest.receiveNow(channel);
        }

        @Operation
        public boolean close() {
            return channel.close();
        }
    }

    @Param(name = "item", gen = IntGen.class, conf = "1:3")
    public static class ReferenceReceiveNow {
        private final Channel<Integer> channel = reference(MIX_CAPACITY, Overflow.BLOCK);

        @Operation
        public boolean trySend(@Param(name = "item") int item) {
            return channel.trySend(item);
        }

        @Operation
        public Integer receiveNow() throws InterruptedException {
            return ChannelLinearizabilityTest.receiveNow(channel);
        }

        @Operation
        public boolean close() {
            return channel.close();
        }
    }

    // --------------------------------------------------------------------------- sequential specifications

    /** The sequential specification: a bounded FIFO with closed and failed flags and a drop count. */
    public abstract static class SequentialChannel {
        private final ArrayDeque<Integer> items = new ArrayDeque<>();
        private final int capacity;
        private final Overflow overflow;
        private boolean closed;
        private boolean failed;
        private long dropped;

        SequentialChannel(int capacity, Overflow overflow) {
            this.capacity = capacity;
            this.overflow = overflow;
        }

        public boolean trySend(int item) {
            if (failed) {
                throw new ChannelFailedException(CAUSE);
            }
            if (closed) {
                throw new ChannelClosedException("closed");
            }
            if (items.size() == capacity) {
                if (overflow == Overflow.DROP_NEWEST) {
                    dropped++;
                }
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

        /** {@code receive(Duration.ZERO)}: what {@code tryReceive} does. */
        public Integer receiveNow() {
            return tryReceive();
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

        public long droppedCount() {
            return dropped;
        }
    }

    /** {@link #MIX_CAPACITY} items, {@link Overflow#BLOCK}. */
    public static class SequentialQueue extends SequentialChannel {
        public SequentialQueue() {
            super(MIX_CAPACITY, Overflow.BLOCK);
        }
    }

    /** One item, {@link Overflow#BLOCK}. */
    public static class SequentialQueueOfOne extends SequentialChannel {
        public SequentialQueueOfOne() {
            super(1, Overflow.BLOCK);
        }
    }

    /** {@link #DROP_CAPACITY} items, {@link Overflow#DROP_NEWEST}. */
    public static class SequentialDropNewest extends SequentialChannel {
        public SequentialDropNewest() {
            super(DROP_CAPACITY, Overflow.DROP_NEWEST);
        }
    }

    /** DROP_OLDEST: a full queue evicts its head and takes the item. */
    public static class SequentialDropOldest {
        private final ArrayDeque<Integer> items = new ArrayDeque<>();

        public boolean trySend(int item) {
            if (items.size() == MIX_CAPACITY) {
                items.poll();
            }
            items.add(item);
            return true;
        }

        public Integer tryReceive() {
            return items.poll();
        }
    }

    // ------------------------------------------------------------------------------------------- checks

    /** Random scenarios for a whole mix of operations. */
    private static final int MIX_ITERATIONS = 8;

    /** Random scenarios after the hand-written ones, which carry the race a check is about. */
    private static final int EDGE_ITERATIONS = 3;

    private static ModelCheckingOptions options(
            Class<?> specification, int iterations, int threads, int actorsPerThread) {
        return new ModelCheckingOptions()
                .sequentialSpecification(specification)
                .iterations(iterations)
                .invocationsPerIteration(300)
                .threads(threads)
                .actorsPerThread(actorsPerThread);
    }

    private static void check(Class<?> test, Class<?> specification, int threads, int actorsPerThread) {
        options(specification, MIX_ITERATIONS, threads, actorsPerThread).check(test);
    }

    /** One operation of {@code test} with its arguments, for a scenario written out by hand. */
    private static Actor op(Class<?> test, String name, Object... args) {
        for (Method m : test.getMethods()) {
            if (m.getName().equals(name)) {
                return new Actor(m, List.of(args));
            }
        }
        throw new IllegalArgumentException(test.getSimpleName() + " has no operation " + name);
    }

    /** A scenario: {@code initial} run alone, then each list of {@code threads} on a thread of its own. */
    @SafeVarargs
    private static ExecutionScenario scenario(List<Actor> initial, List<Actor>... threads) {
        List<List<Actor>> parallel = new ArrayList<>(threads.length);
        for (List<Actor> thread : threads) {
            parallel.add(thread);
        }
        return new ExecutionScenario(initial, parallel, List.of(), null);
    }

    /**
     * The close/fail races, written out so that every interleaving of them is explored, then random scenarios:
     * close against fail on an empty channel and on one holding an item, and fail against the receive of the
     * last item of a closed channel.
     */
    private static void checkCloseAndFail(Class<?> test) {
        options(SequentialQueue.class, EDGE_ITERATIONS, 3, 2)
                .addCustomScenario(scenario(List.of(), List.of(op(test, "close")), List.of(op(test, "fail"))))
                .addCustomScenario(scenario(
                        List.of(op(test, "trySend", 1)), List.of(op(test, "close")), List.of(op(test, "fail"))))
                .addCustomScenario(scenario(
                        List.of(op(test, "trySend", 1), op(test, "close")),
                        List.of(op(test, "fail")),
                        List.of(op(test, "tryReceive"))))
                .check(test);
    }

    /**
     * A drop decided on a full channel against a close, and against a receive that frees room, each followed by a
     * read of the count on the same thread; then random scenarios.
     */
    private static void checkDropNewest(Class<?> test) {
        options(SequentialDropNewest.class, EDGE_ITERATIONS, 3, 2)
                .addCustomScenario(scenario(
                        List.of(op(test, "trySend", 1)),
                        List.of(op(test, "trySend", 2)),
                        List.of(op(test, "close"), op(test, "droppedCount"))))
                .addCustomScenario(scenario(
                        List.of(op(test, "trySend", 1)),
                        List.of(op(test, "trySend", 2)),
                        List.of(op(test, "tryReceive"), op(test, "droppedCount"))))
                .check(test);
    }

    /**
     * Receives racing the puts of the items they may take, with what is left taken after: a receive that claims an
     * index whose item is still being put must neither return an empty slot nor strand the item. With one or two
     * sending and receiving threads, as the shape allows; then random scenarios.
     */
    private static void checkPutRacingReceive(Class<?> test, boolean twoSenders, boolean twoReceivers) {
        List<Actor> after = List.of(op(test, "tryReceive"), op(test, "tryReceive"), op(test, "tryReceive"));
        ModelCheckingOptions options = options(SequentialQueue.class, EDGE_ITERATIONS, 3, 2)
                .addCustomScenario(new ExecutionScenario(
                        List.of(),
                        List.of(
                                List.of(op(test, "trySend", 1), op(test, "trySend", 2)),
                                List.of(op(test, "tryReceive"), op(test, "tryReceive"))),
                        after,
                        null));
        if (twoSenders) {
            // the first index's put may still be under way when the second's has landed
            options.addCustomScenario(new ExecutionScenario(
                    List.of(),
                    List.of(
                            List.of(op(test, "trySend", 1)),
                            List.of(op(test, "trySend", 2)),
                            List.of(op(test, "tryReceive"), op(test, "tryReceive"))),
                    after,
                    null));
        }
        if (twoReceivers) {
            options.addCustomScenario(new ExecutionScenario(
                    List.of(op(test, "trySend", 1)),
                    List.of(
                            List.of(op(test, "trySend", 2), op(test, "trySend", 3)),
                            List.of(op(test, "tryReceive"), op(test, "tryReceive")),
                            List.of(op(test, "tryReceive"))),
                    after,
                    null));
        }
        options.check(test);
    }

    /** A zero-timeout receive after a close that a send in flight preceded; then random scenarios. */
    private static void checkReceiveNow(Class<?> test) {
        options(SequentialQueue.class, EDGE_ITERATIONS, 3, 2)
                .addCustomScenario(scenario(
                        List.of(), List.of(op(test, "trySend", 1)), List.of(op(test, "close"), op(test, "receiveNow"))))
                .addCustomScenario(scenario(
                        List.of(op(test, "trySend", 1)),
                        List.of(op(test, "trySend", 2)),
                        List.of(op(test, "receiveNow"), op(test, "receiveNow"))))
                .check(test);
    }

    @Test
    @Timeout(300)
    void theGeneralChannelIsLinearizable() {
        check(GeneralMix.class, SequentialQueue.class, 3, 3);
    }

    @Test
    @Timeout(300)
    void theReferenceChannelIsLinearizable() {
        check(ReferenceMix.class, SequentialQueue.class, 3, 3);
    }

    @Test
    @Timeout(300)
    void theSpscLinkIsLinearizable() {
        check(SpscMix.class, SequentialQueue.class, 3, 3);
    }

    @Test
    @Timeout(300)
    void theMpscLinkIsLinearizable() {
        check(MpscMix.class, SequentialQueue.class, 3, 3);
    }

    @Test
    @Timeout(300)
    void theSpmcLinkIsLinearizable() {
        check(SpmcMix.class, SequentialQueue.class, 3, 3);
    }

    @Test
    @Timeout(300)
    void aReceiveRacingAPutNeitherLosesNorInventsAnItem() {
        checkPutRacingReceive(GeneralMix.class, true, true);
        checkPutRacingReceive(SpmcMix.class, false, true);
        checkPutRacingReceive(MpscMix.class, true, false);
        checkPutRacingReceive(SpscMix.class, false, false);
    }

    @Test
    @Timeout(300)
    void channelsOfOneWrapTheirRingsLinearizably() {
        options(SequentialQueueOfOne.class, EDGE_ITERATIONS, 3, 3).check(GeneralMixOfOne.class);
        options(SequentialQueueOfOne.class, EDGE_ITERATIONS, 3, 3).check(MpscMixOfOne.class);
    }

    @Test
    @Timeout(300)
    void dropOldestIsLinearizable() {
        check(DropOldest.class, SequentialDropOldest.class, 3, 3);
    }

    @Test
    @Timeout(300)
    void closeAndFailNeverBothWinOnTheGeneralChannel() {
        checkCloseAndFail(GeneralCloseFail.class);
    }

    @Test
    @Timeout(300)
    void closeAndFailNeverBothWinOnTheSpscLink() {
        checkCloseAndFail(SpscCloseFail.class);
    }

    @Test
    @Timeout(300)
    void closeAndFailNeverBothWinOnTheReference() {
        checkCloseAndFail(ReferenceCloseFail.class);
    }

    @Test
    @Timeout(300)
    void aDropIsCountedWhenDecidedOnTheGeneralChannel() {
        checkDropNewest(GeneralDropNewest.class);
    }

    @Test
    @Timeout(300)
    void aDropIsCountedWhenDecidedOnTheSpscLink() {
        checkDropNewest(SpscDropNewest.class);
    }

    @Test
    @Timeout(300)
    void aDropIsCountedWhenDecidedOnTheReference() {
        checkDropNewest(ReferenceDropNewest.class);
    }

    @Test
    @Timeout(300)
    void aZeroTimeoutReceiveSeesEveryAdmittedItemOnTheGeneralChannel() {
        checkReceiveNow(GeneralReceiveNow.class);
    }

    @Test
    @Timeout(300)
    void aZeroTimeoutReceiveSeesEveryAdmittedItemOnTheSpscLink() {
        checkReceiveNow(SpscReceiveNow.class);
    }

    @Test
    @Timeout(300)
    void aZeroTimeoutReceiveSeesEveryAdmittedItemOnTheReference() {
        checkReceiveNow(ReferenceReceiveNow.class);
    }
}
