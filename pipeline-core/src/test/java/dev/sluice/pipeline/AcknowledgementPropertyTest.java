package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Random pipelines over every operator, ended at random (completion, a graceful stop, a cancellation, a failure, a
 * deadline), checked against a model of what each source item should produce at the sink:
 * <ul>
 *   <li>every item emitted is told exactly once, before {@code run()} returns or throws;</li>
 *   <li>an item told {@code PROCESSED} had every one of its results handled by the sink, one told {@code FILTERED}
 *       had none to handle, and no item reached the sink more often than the model allows;</li>
 *   <li>the tracker's committable position is exactly the first item not told a complete disposition: the
 *       committable prefix is fully done, and nothing beyond it is claimed.</li>
 * </ul>
 */
@Timeout(300)
class AcknowledgementPropertyTest {

    private static final int RUNS = 200;

    /** A value on its way: the source item it came from, and which of its descendants it is. */
    record V(int src, int child) {}

    enum Op {
        MAP_SKIPPING,
        FILTER,
        FLAT_MAP,
        PEEK,
        MAP_CONCURRENT,
        MAP_CONCURRENT_UNORDERED,
        MAP_CONCURRENT_BY_KEY,
        BATCH_AND_UNBATCH,
        BUFFER_DROPPING,
        TAKE
    }

    enum Ending {
        COMPLETE,
        STOP,
        CANCEL,
        FAIL,
        DEADLINE
    }

    @Test
    void theCommittablePrefixIsAlwaysFullyProcessedAndNothingBeyondItIsClaimed() throws Exception {
        Random seeds = new Random(Long.getLong("sluice.test.seed", 0x5eed_ac45L));
        for (int run = 0; run < RUNS; run++) {
            long seed = seeds.nextLong();
            try {
                runOnce(new Random(seed));
            } catch (AssertionError | Exception e) {
                throw new AssertionError("run " + run + " (seed " + seed + ") broke the contract: " + e, e);
            }
        }
    }

    private void runOnce(Random random) throws Exception {
        int n = 50 + random.nextInt(400);
        List<Op> ops = new ArrayList<>();
        int stages = 1 + random.nextInt(5);
        for (int i = 0; i < stages; i++) {
            ops.add(Op.values()[random.nextInt(Op.values().length)]);
        }
        Ending ending = Ending.values()[random.nextInt(Ending.values().length)];
        int failAt = random.nextInt(n);
        int endAfter = random.nextInt(n);
        boolean groupSink = random.nextBoolean();
        long takeLimit = random.nextInt(2 * n);
        String described = n + " items through " + ops + (groupSink ? " into a group sink" : "") + ", ending " + ending
                + " (fail at " + failAt + ", end after " + endAfter + ", take " + takeLimit + ")";
        try {
            check(random, n, ops, ending, failAt, endAfter, groupSink, takeLimit);
        } catch (AssertionError e) {
            throw new AssertionError(described + ": " + e.getMessage(), e);
        }
    }

    private void check(
            Random random,
            int n,
            List<Op> ops,
            Ending ending,
            int failAt,
            int endAfter,
            boolean groupSink,
            long takeLimit)
            throws Exception {

        PositionTracker tracker = new PositionTracker(0);
        AtomicReferenceArray<Disposition> told = new AtomicReferenceArray<>(n);
        AtomicIntegerArray calls = new AtomicIntegerArray(n);
        AtomicIntegerArray atSink = new AtomicIntegerArray(n);
        AtomicInteger emitted = new AtomicInteger();
        CountDownLatch reachedEnd = new CountDownLatch(1);

        Source<V> source = emitter -> {
            for (int i = 0; i < n; i++) {
                Acknowledgement position = tracker.track(i);
                int item = i;
                emitted.set(i + 1); // before emit: if emit throws, the item is still told (RELEASED)
                emitter.emit(new V(i, 0), d -> {
                    calls.incrementAndGet(item);
                    told.set(item, d);
                    position.done(d);
                });
                if (i == endAfter) {
                    reachedEnd.countDown();
                }
                if (random.nextInt(64) == 0) {
                    Thread.sleep(1);
                }
            }
            reachedEnd.countDown();
        };

        Pipeline<V> p = Pipeline.from(source);
        for (int s = 0; s < ops.size(); s++) {
            p = apply(p, ops.get(s), s, random, takeLimit);
        }
        if (ending == Ending.FAIL) {
            p = p.map(v -> {
                if (v.src() == failAt) {
                    throw new IllegalStateException("injected failure at item " + failAt);
                }
                return v;
            });
        }
        Sink<V, ?> sink = groupSink
                ? Sink.forEachBatch(8, group -> group.forEach(v -> atSink.incrementAndGet(v.src())))
                : Sink.forEach(v -> atSink.incrementAndGet(v.src()));
        RunnablePipeline<?> runnable = p.to(sink);

        Outcome outcome;
        if (ending == Ending.DEADLINE) {
            outcome = outcomeOf(() -> runnable.run(Duration.ofMillis(1 + random.nextInt(20))));
        } else {
            PipelineHandle<?> handle = runnable.start();
            if (ending == Ending.STOP || ending == Ending.CANCEL) {
                reachedEnd.await(30, TimeUnit.SECONDS);
                if (ending == Ending.STOP) {
                    handle.stop(Duration.ofMillis(random.nextInt(30)));
                } else {
                    handle.cancel();
                }
            }
            outcome = outcomeOf(handle::await);
        }

        // every item emitted was told exactly once, before the run returned
        int sent = emitted.get();
        for (int i = 0; i < n; i++) {
            assertThat(calls.get(i))
                    .as("calls of item %d (emitted: %d)", i, sent)
                    .isEqualTo(i < sent ? 1 : 0);
        }
        // each disposition agrees with what the sink saw
        int firstIncomplete = sent;
        for (int i = 0; i < sent; i++) {
            Disposition d = told.get(i);
            int expected = expectedAtSink(ops, new V(i, 0));
            int seen = atSink.get(i);
            assertThat(seen).as("item %d at the sink, model %d", i, expected).isLessThanOrEqualTo(expected);
            if (d == Disposition.PROCESSED) {
                assertThat(seen).as("item %d told PROCESSED", i).isEqualTo(expected);
                if (!ops.contains(Op.BATCH_AND_UNBATCH)) {
                    // (a value made from a batch stands for all of the batch's items, so after one an item whose
                    // own results were all filtered is PROCESSED when a batch-mate's result was)
                    assertThat(seen).as("item %d told PROCESSED", i).isPositive();
                }
            } else if (d == Disposition.FILTERED) {
                assertThat(expected).as("item %d told FILTERED", i).isZero();
            }
            if (!d.isComplete() && firstIncomplete == sent) {
                firstIncomplete = i;
            }
        }
        assertThat(tracker.committable()).as("committable, outcome %s", outcome).isEqualTo(firstIncomplete);
        if (outcome == Outcome.COMPLETED && !ops.contains(Op.TAKE)) {
            assertThat(tracker.committable()).isEqualTo(n);
        }
        if (ending == Ending.FAIL && outcome == Outcome.FAILED) {
            assertThat(told.get(failAt)).isIn(Disposition.FAILED, null);
        }
    }

    private static Pipeline<V> apply(Pipeline<V> p, Op op, int stage, Random random, long takeLimit) {
        return switch (op) {
            case MAP_SKIPPING -> p.map(v -> failsAt(v, stage) ? explode(v) : v).onError(ErrorPolicy.skip());
            case FILTER -> p.filter(v -> keeps(v, stage));
            case FLAT_MAP -> p.flatMap(v -> children(v, stage));
            case PEEK -> p.peek(v -> {});
            case MAP_CONCURRENT ->
                p.mapConcurrent(1 + random.nextInt(4), v -> failsAt(v, stage) ? explode(v) : v)
                        .onError(ErrorPolicy.deadLetter(d -> {}));
            case MAP_CONCURRENT_UNORDERED ->
                p.mapConcurrentUnordered(1 + random.nextInt(4), v -> failsAt(v, stage) ? explode(v) : v)
                        .onError(ErrorPolicy.skip());
            case MAP_CONCURRENT_BY_KEY ->
                p.mapConcurrentByKey(1 + random.nextInt(4), v -> v.src() % 5, v -> failsAt(v, stage) ? explode(v) : v)
                        .onError(ErrorPolicy.skip());
            case BATCH_AND_UNBATCH ->
                p.batch(1 + random.nextInt(10), Duration.ofMillis(1 + random.nextInt(5)))
                        .flatMap(batch -> batch);
            case BUFFER_DROPPING -> p.buffer(1 + random.nextInt(4), Overflow.DROP_NEWEST);
            case TAKE -> p.take(takeLimit);
        };
    }

    /** How many values the sink gets from {@code v} when nothing is dropped, released or failed. */
    private static int expectedAtSink(List<Op> ops, V v) {
        List<V> values = List.of(v);
        for (int s = 0; s < ops.size(); s++) {
            int stage = s;
            List<V> next = new ArrayList<>();
            for (V x : values) {
                switch (ops.get(s)) {
                    case MAP_SKIPPING, MAP_CONCURRENT, MAP_CONCURRENT_UNORDERED, MAP_CONCURRENT_BY_KEY -> {
                        if (!failsAt(x, stage)) {
                            next.add(x);
                        }
                    }
                    case FILTER -> {
                        if (keeps(x, stage)) {
                            next.add(x);
                        }
                    }
                    case FLAT_MAP -> next.addAll(children(x, stage));
                    default -> next.add(x);
                }
            }
            values = next;
        }
        return values.size();
    }

    private static boolean failsAt(V v, int stage) {
        return (v.src() * 31 + v.child() * 7 + stage) % 23 == 0;
    }

    private static boolean keeps(V v, int stage) {
        return (v.src() + v.child() + stage) % 5 != 0;
    }

    private static List<V> children(V v, int stage) {
        int count = (v.src() + v.child() + stage) % 3;
        List<V> children = new ArrayList<>(count);
        for (int j = 0; j < count; j++) {
            children.add(new V(v.src(), v.child() * 3 + j + 1));
        }
        return children;
    }

    private static V explode(V v) {
        throw new IllegalArgumentException("the function fails on " + v);
    }

    private interface Run {
        PipelineResult<?> call() throws Exception;
    }

    private static Outcome outcomeOf(Run run) throws InterruptedException {
        try {
            return run.call().outcome();
        } catch (PipelineFailedException e) {
            return Outcome.FAILED;
        } catch (PipelineCancelledException e) {
            return e.summary().outcome();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError("unexpected exception from the run", e);
        }
    }
}
