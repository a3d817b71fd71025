package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Channel;
import dev.sluice.pipeline.StageStats;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** One stage in one run: its links, counters, threads and context. */
final class RunningStage {
    final int index;
    final StageDeclaration spec;
    final OwningRun run;
    /** The link from the previous stage; null for the source. */
    final Link<Object> input;
    /** The link to the next stage; null for the sink. */
    final Link<Object> output;

    final RunningStageContext context;
    private final List<StageThreadCounters> counters = new CopyOnWriteArrayList<>();
    /** Channels inside the stage (ordered mapConcurrent's), failed with the links when the run aborts. */
    final List<Channel<?>> internalChannels = new CopyOnWriteArrayList<>();

    final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    /** Whether the input link comes from a {@code batch} stage: its lists count as the items they hold. */
    final boolean inputCarriesBatches;
    /** Set when a stage downstream finished early: this stage ends quietly, whatever it was doing. */
    volatile boolean finishedEarly;
    /** Skips logged so far by any thread of the stage: the first few at WARN. */
    final java.util.concurrent.atomic.AtomicInteger skipsLogged = new java.util.concurrent.atomic.AtomicInteger();
    /** Held while the dead-letter handler runs: the stage's threads (mapConcurrent's workers) call it one at a time. */
    final java.util.concurrent.locks.ReentrantLock deadLetters = new java.util.concurrent.locks.ReentrantLock();
    /** When the stage's last thread ended ({@link System#nanoTime()}), or 0 while one runs. */
    private final java.util.concurrent.atomic.AtomicLong endNanos = new java.util.concurrent.atomic.AtomicLong();

    RunningStage(
            int index,
            StageDeclaration spec,
            OwningRun run,
            Link<Object> input,
            Link<Object> output,
            RunningStageContext context,
            boolean inputCarriesBatches) {
        this.index = index;
        this.inputCarriesBatches = inputCarriesBatches;
        this.spec = spec;
        this.run = run;
        this.input = input;
        this.output = output;
        this.context = context;
    }

    String name() {
        return spec.name();
    }

    /** A fresh set of counters for one of the stage's threads. */
    StageThreadCounters newCounters() {
        StageThreadCounters c = new StageThreadCounters();
        counters.add(c);
        return c;
    }

    /** How many items the stage takes or passes on at a time. */
    int transferBatch(Link<Object> link) {
        return link == null
                ? dev.sluice.pipeline.Pipeline.TRANSFER_BATCH
                : Math.min(dev.sluice.pipeline.Pipeline.TRANSFER_BATCH, link.capacity());
    }

    void threadEnded(long nanoTime) {
        endNanos.accumulateAndGet(nanoTime, Math::max);
    }

    /** How long the stage ran, from the start of the run to the end of its last thread. */
    Duration duration(long runStartNanos, Duration runDuration) {
        long end = endNanos.get();
        return end == 0 ? runDuration : Duration.ofNanos(Math.max(0, end - runStartNanos));
    }

    void interruptThreads() {
        Thread self = Thread.currentThread();
        for (Thread t : threads) {
            if (t != self) {
                t.interrupt();
            }
        }
    }

    StageStats stats(Duration elapsed) {
        long in = 0;
        long out = 0;
        long skipped = 0;
        long failed = 0;
        for (StageThreadCounters c : counters) {
            in += c.in();
            out += c.out();
            skipped += c.skipped();
            failed += c.failed();
        }
        long processed = input == null ? out : in;
        long nanos = elapsed.toNanos();
        double perSecond = nanos <= 0 ? 0.0 : processed * 1_000_000_000.0 / nanos;
        long dropped = output == null ? 0 : output.droppedCount();
        int buffered = input == null ? 0 : input.size();
        int capacity = input == null ? 0 : input.capacity();
        return new StageStats(name(), in, out, skipped, dropped, failed, perSecond, buffered, capacity);
    }
}
