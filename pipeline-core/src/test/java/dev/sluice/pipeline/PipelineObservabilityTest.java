package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.MDC;

/** Listeners, progress monitoring, correlation IDs in the MDC, and Micrometer meters. */
@Timeout(60)
class PipelineObservabilityTest {

    @Test
    void listenersSeeStartThenProgressThenFinishWithTheSummary() throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        List<PipelineSummary> finished = new CopyOnWriteArrayList<>();
        CountDownLatch progressSeen = new CountDownLatch(2);
        PipelineListener listener = new PipelineListener() {
            @Override
            public void onStart(PipelineSnapshot start) {
                events.add("start:" + start.itemCount());
            }

            @Override
            public void onProgress(PipelineSnapshot progress) {
                events.add("progress");
                progressSeen.countDown();
            }

            @Override
            public void onFinish(PipelineSummary summary) {
                events.add("finish");
                finished.add(summary);
            }
        };
        PipelineResult<Long> result = Pipeline.from(Source.range(0, 100))
                .pipelineName("observed")
                .listener(listener, Duration.ofMillis(10))
                .map(x -> {
                    if (x == 0) {
                        progressSeen.await(); // hold the run until two progress calls came
                    }
                    return x;
                })
                .to(Sink.count())
                .run();
        assertThat(events.get(0)).isEqualTo("start:0");
        assertThat(events.subList(1, events.size() - 1))
                .hasSizeGreaterThanOrEqualTo(2)
                .containsOnly("progress");
        assertThat(events.get(events.size() - 1)).isEqualTo("finish");
        PipelineSummary s = finished.get(0);
        assertThat(s).isEqualTo(result.summary());
        assertThat(s.pipelineName()).isEqualTo("observed");
        assertThat(s.itemCount()).isEqualTo(100);
        assertThat(s.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(s.itemsPerSecond()).isPositive();
    }

    @Test
    void aSlowProgressCallbackDelaysNeitherTheDeadlineNorTheStagesButOnFinishComesAfterIt() throws Exception {
        // given: a listener whose first progress report blocks until the test lets it go
        List<String> events = new CopyOnWriteArrayList<>();
        CountDownLatch inProgress = new CountDownLatch(1);
        CountDownLatch releaseProgress = new CountDownLatch(1);
        CountDownLatch stageInterrupted = new CountDownLatch(1);
        PipelineListener slow = new PipelineListener() {
            @Override
            public void onProgress(PipelineSnapshot progress) {
                if (inProgress.getCount() == 0) {
                    return;
                }
                inProgress.countDown();
                try {
                    releaseProgress.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                events.add("progress returned");
            }

            @Override
            public void onFinish(PipelineSummary summary) {
                events.add("finish " + summary.outcome());
            }
        };
        PipelineHandle<Long> handle = Pipeline.from(Source.range(0, 10))
                .listener(slow, Duration.ofMillis(10))
                .map(x -> {
                    try {
                        new CountDownLatch(1).await();
                    } catch (InterruptedException e) {
                        stageInterrupted.countDown();
                        throw e;
                    }
                    return x;
                })
                .to(Sink.count())
                .start(Duration.ofMillis(300));
        assertThat(inProgress.await(10, TimeUnit.SECONDS)).isTrue();
        // when the deadline passes while the callback still blocks
        // then the stages are aborted on time all the same
        assertThat(stageInterrupted.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(events).isEmpty();
        // and the run ends, with onFinish, only once the callback has returned
        releaseProgress.countDown();
        assertThatThrownBy(handle::await)
                .isInstanceOfSatisfying(
                        PipelineCancelledException.class,
                        e -> assertThat(e.summary().outcome()).isEqualTo(Outcome.TIMED_OUT));
        assertThat(events).containsExactly("progress returned", "finish TIMED_OUT");
    }

    @Test
    void summaryIsTheRunsLastSnapshotPlusHowItEnded() throws Exception {
        // given a run whose start snapshot a listener keeps
        List<PipelineSnapshot> starts = new CopyOnWriteArrayList<>();
        PipelineListener listener = new PipelineListener() {
            @Override
            public void onStart(PipelineSnapshot start) {
                starts.add(start);
            }
        };

        // when it completes
        PipelineSummary s = Pipeline.from(Source.range(0, 50))
                .pipelineName("summarised")
                .listener(listener)
                .to(Sink.count())
                .run()
                .summary();

        // then the summary reads as its final snapshot, and adds the ending
        PipelineSnapshot last = s.snapshot();
        assertThat(last.runId()).isEqualTo(starts.get(0).runId()).isEqualTo(s.runId());
        assertThat(last.pipelineName()).isEqualTo(s.pipelineName()).isEqualTo("summarised");
        assertThat(last.correlationId()).isEqualTo(s.correlationId());
        assertThat(last.startedAt()).isEqualTo(s.startedAt());
        assertThat(last.elapsed()).isEqualTo(s.duration()).isPositive();
        assertThat(last.stages()).isEqualTo(s.stages());
        assertThat(last.itemCount()).isEqualTo(s.itemCount()).isEqualTo(50);
        assertThat(s.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(s.failedStage()).isNull();
        assertThat(s.errorMessage()).isEmpty();
    }

    @Test
    void monitorReportsItemsPerSecondAndLinkFill() throws Exception {
        List<PipelineSnapshot> snapshots = new CopyOnWriteArrayList<>();
        CountDownLatch seen = new CountDownLatch(3);
        Pipeline.from(Source.range(0, 10_000))
                .monitor(Duration.ofMillis(5), s -> {
                    snapshots.add(s);
                    seen.countDown();
                })
                .to(Sink.forEach(x -> {
                    if (x == 5_000) {
                        seen.await();
                    }
                }))
                .run();
        PipelineSnapshot last = snapshots.get(snapshots.size() - 1);
        assertThat(last.itemCount()).isGreaterThan(0);
        assertThat(last.stages()).hasSize(2);
        assertThat(last.stages().get(1).capacity()).isEqualTo(Pipeline.DEFAULT_CAPACITY);
        assertThat(last.elapsed()).isPositive();
    }

    @Test
    void everyStageThreadCarriesTheCorrelationIdInItsMdcAndContext() throws Exception {
        Set<String> mdcIds = ConcurrentHashMap.newKeySet();
        Set<String> contextIds = ConcurrentHashMap.newKeySet();
        Set<String> stagesInMdc = ConcurrentHashMap.newKeySet();
        CheckedFunction<Long, Long> record = x -> {
            mdcIds.add(MDC.get("correlationId"));
            stagesInMdc.add(MDC.get("stage"));
            contextIds.add(StageContext.current().orElseThrow().correlationId());
            return x;
        };
        Source<Long> source = emitter -> {
            mdcIds.add(MDC.get("correlationId"));
            contextIds.add(emitter.context().correlationId());
            emitter.emit(1L);
            emitter.emit(2L);
        };
        PipelineResult<Long> result = Pipeline.from(source)
                .correlationId("job-42")
                .map(record)
                .mapConcurrent(2, record)
                .mapConcurrentUnordered(2, record)
                .to(Sink.forEach(record::apply))
                .run();
        assertThat(mdcIds).containsExactly("job-42");
        assertThat(contextIds).containsExactly("job-42");
        assertThat(stagesInMdc).containsExactlyInAnyOrder("map", "mapConcurrent", "mapConcurrentUnordered", "forEach");
        assertThat(result.correlationId()).isEqualTo("job-42");
        assertThat(StageContext.current()).as("not a stage thread").isEmpty();
    }

    @Test
    void listenersRunWithTheCorrelationIdAndPipelineNameInTheirMdc() throws Exception {
        // given a listener that records the MDC of each callback
        List<Map<String, String>> seen = new CopyOnWriteArrayList<>();
        CountDownLatch progressSeen = new CountDownLatch(1);
        PipelineListener listener = new PipelineListener() {
            @Override
            public void onStart(PipelineSnapshot start) {
                seen.add(mdc());
            }

            @Override
            public void onProgress(PipelineSnapshot progress) {
                seen.add(mdc());
                progressSeen.countDown();
            }

            @Override
            public void onFinish(PipelineSummary summary) {
                seen.add(mdc());
            }

            private Map<String, String> mdc() {
                Map<String, String> copy = MDC.getCopyOfContextMap();
                return copy == null ? Map.of() : copy;
            }
        };
        // when
        Pipeline.from(Source.range(0, 10))
                .pipelineName("audited")
                .correlationId("job-7")
                .listener(listener, Duration.ofMillis(10))
                .map(x -> {
                    if (x == 0) {
                        progressSeen.await(); // hold the run until a progress call came
                    }
                    return x;
                })
                .to(Sink.count())
                .run();
        // then every callback saw the run's keys, as stage threads do, and no stage
        assertThat(seen)
                .hasSizeGreaterThanOrEqualTo(3)
                .allSatisfy(mdc -> assertThat(mdc)
                        .containsEntry(StageContext.MDC_CORRELATION_ID, "job-7")
                        .containsEntry(StageContext.MDC_PIPELINE, "audited")
                        .doesNotContainKey(StageContext.MDC_STAGE));
    }

    @Test
    void eachRunGetsAFreshCorrelationIdUnlessOneIsGiven() throws Exception {
        RunnablePipeline<Long> p = Pipeline.from(Source.range(0, 1)).to(Sink.count());
        String a = p.run().correlationId();
        String b = p.run().correlationId();
        assertThat(a).isNotEqualTo(b);
        assertThat(java.util.UUID.fromString(a)).isNotNull();
    }

    @Test
    void stagesPutAttributesInTheSummary() throws Exception {
        Source<Long> source = emitter -> {
            emitter.context().attribute("grpc.method", "Users/Stream");
            emitter.context().attribute("ignored", null);
            emitter.emit(1L);
        };
        PipelineResult<Long> result = Pipeline.from(source).to(Sink.count()).run();
        assertThat(result.summary().attributes()).containsExactly(java.util.Map.entry("grpc.method", "Users/Stream"));
    }

    @Test
    void metersCountItemsByOutcomeAndTimeRuns() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        RunnablePipeline<Long> p = Pipeline.from(Source.range(0, 1_000))
                .pipelineName("orders")
                .meterRegistry(registry)
                .map(x -> {
                    if (x % 100 == 0) {
                        throw new IllegalArgumentException("bad");
                    }
                    return x;
                })
                .onError(ErrorPolicy.skip())
                .to(Sink.count());
        p.run();
        p.run();
        assertThat(counter(registry, "orders", "source", "processed")).isEqualTo(2_000);
        assertThat(counter(registry, "orders", "map", "processed")).isEqualTo(1_980);
        assertThat(counter(registry, "orders", "map", "skipped")).isEqualTo(20);
        assertThat(counter(registry, "orders", "count", "processed")).isEqualTo(1_980);
        Timer run = registry.find("sluice.pipeline.run")
                .tags("pipeline", "orders", "outcome", "completed")
                .timer();
        assertThat(run).isNotNull();
        assertThat(run.count()).isEqualTo(2);
        assertThat(registry.find("sluice.pipeline.stage.duration")
                        .tags("pipeline", "orders", "stage", "map")
                        .timer()
                        .count())
                .isEqualTo(2);
        Gauge capacity = registry.find("sluice.pipeline.channel.capacity")
                .tags("pipeline", "orders", "stage", "map")
                .gauge();
        assertThat(capacity).isNotNull();
        assertThat(capacity.value()).as("no run in progress").isZero();
    }

    @Test
    void aRegistryClearedBetweenRunsHasEveryMeterBackAfterTheNextRun() throws Exception {
        // given a pipeline that has run once in a registry, which is then cleared (as tests sharing one do)
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RunnablePipeline<Long> p = Pipeline.from(Source.range(0, 10))
                .pipelineName("cleared")
                .meterRegistry(registry)
                .to(Sink.count());
        p.run();
        List<String> before = registry.getMeters().stream()
                .map(m -> m.getId().getName() + m.getId().getTags())
                .sorted()
                .toList();
        registry.clear();

        // when it runs again
        p.run();

        // then the same meters are there, the counters with the totals of both runs
        assertThat(registry.getMeters().stream()
                        .map(m -> m.getId().getName() + m.getId().getTags())
                        .sorted()
                        .toList())
                .isEqualTo(before);
        assertThat(counter(registry, "cleared", "count", "processed")).isEqualTo(20);
    }

    @Test
    void theMetersLiveUnderSluiceAndTheirPrometheusNamesDoubleNoSuffix() throws Exception {
        // given
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

        // when
        Pipeline.from(Source.range(0, 10))
                .pipelineName("pinned")
                .meterRegistry(registry)
                .to(Sink.count())
                .run();

        // then: these names exactly, tagged by pipeline, stage and outcome only, counts with no unit
        List<Meter.Id> ids = registry.getMeters().stream().map(Meter::getId).toList();
        assertThat(ids)
                .extracting(Meter.Id::getName)
                .allMatch(name -> name.startsWith("sluice.pipeline."))
                .containsOnly(
                        "sluice.pipeline.items",
                        "sluice.pipeline.channel.size",
                        "sluice.pipeline.channel.capacity",
                        "sluice.pipeline.stage.duration",
                        "sluice.pipeline.run");
        assertThat(ids)
                .allSatisfy(id ->
                        assertThat(id.getTags()).extracting(Tag::getKey).isSubsetOf("pipeline", "stage", "outcome"));
        assertThat(ids)
                .filteredOn(id ->
                        !id.getName().endsWith(".duration") && !id.getName().endsWith(".run"))
                .allSatisfy(id -> assertThat(id.getBaseUnit()).isNull());
        assertThat(registry.scrape())
                .contains(
                        "sluice_pipeline_items_total{",
                        "sluice_pipeline_channel_size{",
                        "sluice_pipeline_channel_capacity{",
                        "sluice_pipeline_stage_duration_seconds_count{",
                        "sluice_pipeline_run_seconds_count{")
                .doesNotContain("items_items", "\npipeline_");
    }

    @Test
    void concurrentRunsOfOnePipelineShareItsMetersAndTheyNeverStepBack() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        CountDownLatch release = new CountDownLatch(1);
        RunnablePipeline<Long> p = Pipeline.from(Source.range(0, 500))
                .pipelineName("shared")
                .meterRegistry(registry)
                .map(x -> {
                    if (x == 499) {
                        release.await();
                    }
                    return x;
                })
                .to(Sink.count());
        PipelineHandle<Long> first = p.start();
        PipelineHandle<Long> second = p.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> counter(registry, "shared", "source", "processed") == 1_000);
        assertThat(registry.find("sluice.pipeline.channel.capacity")
                        .tags("pipeline", "shared", "stage", "map")
                        .gauge()
                        .value())
                .as("two runs in progress")
                .isEqualTo(2.0 * Pipeline.DEFAULT_CAPACITY);
        double before = counter(registry, "shared", "map", "processed");
        release.countDown();
        first.await();
        second.await();
        assertThat(counter(registry, "shared", "map", "processed"))
                .isGreaterThanOrEqualTo(before)
                .isEqualTo(1_000);
    }

    @Test
    void withoutARegistryNothingIsRegisteredAnywhere() throws Exception {
        SimpleMeterRegistry global = new SimpleMeterRegistry();
        io.micrometer.core.instrument.Metrics.addRegistry(global);
        try {
            Pipeline.from(Source.range(0, 10))
                    .pipelineName("unmetered")
                    .to(Sink.count())
                    .run();
            assertThat(global.getMeters()).isEmpty();
        } finally {
            io.micrometer.core.instrument.Metrics.removeRegistry(global);
        }
    }

    private static double counter(MeterRegistry registry, String pipeline, String stage, String outcome) {
        FunctionCounter c = registry.find("sluice.pipeline.items")
                .tags("pipeline", pipeline, "stage", stage, "outcome", outcome)
                .functionCounter();
        assertThat(c)
                .as("sluice.pipeline.items %s/%s/%s", pipeline, stage, outcome)
                .isNotNull();
        return c.count();
    }

    @Test
    void theProcessedCounterNeverStepsBackWhileItemsAreSkipped() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        PipelineHandle<Long> run = Pipeline.from(Source.range(0, 400))
                .pipelineName("skipping")
                .meterRegistry(registry)
                .map(x -> {
                    Thread.sleep(1); // a simulated slow stage: time to read the counter mid-group
                    throw new IllegalArgumentException("every item is bad");
                })
                .onError(ErrorPolicy.skip())
                .to(Sink.count())
                .start();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> registry.find("sluice.pipeline.items")
                                .tags("pipeline", "skipping", "stage", "map", "outcome", "processed")
                                .functionCounter()
                        != null);
        double last = 0;
        List<Double> readings = new CopyOnWriteArrayList<>();
        while (!run.isDone()) {
            double now = counter(registry, "skipping", "map", "processed");
            readings.add(now);
            assertThat(now).as("readings so far %s", readings).isGreaterThanOrEqualTo(last);
            last = now;
            Thread.onSpinWait();
        }
        run.await();
    }
}
