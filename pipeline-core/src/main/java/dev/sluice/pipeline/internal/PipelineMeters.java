package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.PipelineSummary;
import dev.sluice.pipeline.StageStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Binds runs to Micrometer without a Micrometer call per item: stages keep their own counters, and the meters
 * registered here read them (function counters and gauges) when the registry is scraped.
 *
 * <p>Micrometer keeps the first object registered under a meter ID, so all runs of one named pipeline share one
 * {@link StageMeters} per stage: it sums the counters of the runs in progress and the totals of the runs that
 * have ended. Moving a run from one to the other happens under the same lock as reading, so the counters never
 * step back.
 *
 * <p>Meters (tags {@code pipeline}, {@code stage}, {@code outcome}; never an ID), all under {@code sluice.pipeline}
 * and with no base unit on the counts, so that Prometheus names carry no doubled suffix:
 * {@code sluice.pipeline.items} (function counter, outcome processed|skipped|dropped|failed),
 * {@code sluice.pipeline.channel.size} and {@code sluice.pipeline.channel.capacity} (gauges of each stage's input
 * link), {@code sluice.pipeline.stage.duration} (timer, one record per stage per run),
 * {@code sluice.pipeline.run} (timer, tag outcome).
 */
final class PipelineMeters {

    private static final ReentrantLock REGISTRIES_LOCK = new ReentrantLock();
    private static final Map<MeterRegistry, Map<String, StageMeters>> REGISTRIES = new WeakHashMap<>();

    private final MeterRegistry registry;
    private final String pipelineName;
    private final StageMeters[] stages;

    private PipelineMeters(MeterRegistry registry, String pipelineName, StageMeters[] stages) {
        this.registry = registry;
        this.pipelineName = pipelineName;
        this.stages = stages;
    }

    /**
     * Registers (or finds) the meters of each stage and adds this run's counters to them. A stage's meters are
     * registered again at each run, which finds them where they are and brings them back where they were removed
     * (a registry cleared between runs), reading the same totals.
     */
    static PipelineMeters bind(MeterRegistry registry, String pipelineName, RunningStage[] running) {
        StageMeters[] meters = new StageMeters[running.length];
        REGISTRIES_LOCK.lock();
        try {
            Map<String, StageMeters> byStage = REGISTRIES.computeIfAbsent(registry, r -> new HashMap<>());
            for (int i = 0; i < running.length; i++) {
                String stage = running[i].name();
                meters[i] = byStage.computeIfAbsent(pipelineName + '\u0000' + stage, k -> new StageMeters());
                meters[i].registerIn(registry, pipelineName, stage);
            }
        } finally {
            REGISTRIES_LOCK.unlock();
        }
        for (int i = 0; i < running.length; i++) {
            meters[i].runStarted(running[i]);
        }
        return new PipelineMeters(registry, pipelineName, meters);
    }

    /** Moves the run's counters into the totals and records its timers. */
    void runEnded(RunningStage[] running, long runStartNanos, PipelineSummary summary) {
        List<StageStats> stats = summary.stages();
        for (int i = 0; i < running.length; i++) {
            stages[i].runEnded(running[i], stats.get(i));
            Timer.builder("sluice.pipeline.stage.duration")
                    .description("How long each stage of a run ran, from the start of the run")
                    .tags("pipeline", pipelineName, "stage", running[i].name())
                    .register(registry)
                    .record(running[i].duration(runStartNanos, summary.duration()));
        }
        Timer.builder("sluice.pipeline.run")
                .description("Pipeline runs, by how they ended")
                .tags(
                        "pipeline",
                        pipelineName,
                        "outcome",
                        summary.outcome().name().toLowerCase(java.util.Locale.ROOT))
                .register(registry)
                .record(summary.duration().toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The meters of one stage of one named pipeline, shared by all its runs. */
    static final class StageMeters {
        private final ReentrantLock lock = new ReentrantLock();
        private final Map<RunningStage, Boolean> live = new java.util.IdentityHashMap<>();
        private long processed;
        private long skipped;
        private long dropped;
        private long failed;
        private double processedReported;

        /** Registers this stage's meters in {@code registry}, or finds them there (registering is idempotent). */
        void registerIn(MeterRegistry registry, String pipeline, String stage) {
            StageMeters m = this;
            Tags tags = Tags.of("pipeline", pipeline, "stage", stage);
            counter(registry, m, tags, "processed", StageMeters::processed);
            counter(registry, m, tags, "skipped", StageMeters::skipped);
            counter(registry, m, tags, "dropped", StageMeters::dropped);
            counter(registry, m, tags, "failed", StageMeters::failed);
            Gauge.builder("sluice.pipeline.channel.size", m, StageMeters::buffered)
                    .description("Items waiting in the stage's input link, summed over the runs in progress")
                    .tags(tags)
                    .register(registry);
            Gauge.builder("sluice.pipeline.channel.capacity", m, StageMeters::capacity)
                    .description("Capacity of the stage's input link, summed over the runs in progress")
                    .tags(tags)
                    .register(registry);
        }

        private static void counter(
                MeterRegistry registry,
                StageMeters m,
                Tags tags,
                String outcome,
                java.util.function.ToDoubleFunction<StageMeters> f) {
            FunctionCounter.builder("sluice.pipeline.items", m, f)
                    .description("Items handled by a stage, by outcome")
                    .tags(tags)
                    .tag("outcome", outcome)
                    .register(registry);
        }

        void runStarted(RunningStage run) {
            lock.lock();
            try {
                live.put(run, Boolean.TRUE);
            } finally {
                lock.unlock();
            }
        }

        void runEnded(RunningStage run, StageStats last) {
            lock.lock();
            try {
                if (live.remove(run) != null) {
                    processed += processedOf(last);
                    skipped += last.skipped();
                    dropped += last.dropped();
                    failed += last.failed();
                }
            } finally {
                lock.unlock();
            }
        }

        private double processed() {
            // A stage counts a group as taken in before it counts the items of it that it skips or fails, so the
            // live difference can dip for a moment; a counter must never step back, so report the highest seen.
            double now = sum(StageMeters::processedOf, processed);
            lock.lock();
            try {
                processedReported = Math.max(processedReported, now);
                return processedReported;
            } finally {
                lock.unlock();
            }
        }

        private double skipped() {
            return sum(StageStats::skipped, skipped);
        }

        private double dropped() {
            return sum(StageStats::dropped, dropped);
        }

        private double failed() {
            return sum(StageStats::failed, failed);
        }

        private double buffered() {
            return sum(StageStats::buffered, 0);
        }

        private double capacity() {
            return sum(StageStats::capacity, 0);
        }

        private double sum(java.util.function.ToLongFunction<StageStats> f, long finished) {
            lock.lock();
            try {
                long total = finished;
                for (RunningStage r : live.keySet()) {
                    total += f.applyAsLong(r.stats(Duration.ZERO));
                }
                return total;
            } finally {
                lock.unlock();
            }
        }

        /** A source (no input link) processes what it emits; any other stage what it took and did not skip or fail. */
        private static long processedOf(StageStats s) {
            return s.capacity() == 0 ? s.itemsOut() : s.itemsIn() - s.skipped() - s.failed();
        }
    }
}
