package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.common.KeyValue;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** One Micrometer Observation per run: current in every thread of the run, stopped with the run's outcome. */
@Timeout(60)
class RunObservationTest {

    private final ObservationRegistry registry = ObservationRegistry.create();
    private final List<Observation.Context> stopped = new CopyOnWriteArrayList<>();

    RunObservationTest() {
        registry.observationConfig().observationHandler(new ObservationHandler<>() {
            @Override
            public void onStop(Observation.Context context) {
                stopped.add(context);
            }

            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }
        });
    }

    private String current() {
        Observation o = registry.getCurrentObservation();
        return o == null ? "none" : o.getContext().getName();
    }

    private Observation.Context runContext() {
        return stopped.stream()
                .filter(c -> c.getName().equals("sluice.pipeline"))
                .findFirst()
                .orElseThrow();
    }

    private static String value(Observation.Context context, String key) {
        KeyValue low = context.getLowCardinalityKeyValue(key);
        KeyValue high = context.getHighCardinalityKeyValue(key);
        return low != null ? low.getValue() : high != null ? high.getValue() : null;
    }

    @Test
    void theRunsObservationIsCurrentInEveryStageAndListenerAndAChildOfTheCallers() throws Exception {
        // given a caller inside an observation of its own
        List<String> seen = new CopyOnWriteArrayList<>();
        PipelineListener listener = new PipelineListener() {
            @Override
            public void onStart(PipelineSnapshot start) {
                seen.add("onStart:" + current());
            }

            @Override
            public void onFinish(PipelineSummary summary) {
                seen.add("onFinish:" + current());
            }
        };
        Observation request = Observation.start("request", registry);
        PipelineResult<Long> result;
        try (Observation.Scope ignored = request.openScope()) {
            // when an observed pipeline runs
            result = Pipeline.from(Source.range(0, 32))
                    .pipelineName("observed")
                    .observationRegistry(registry)
                    .listener(listener)
                    .map(x -> {
                        seen.add("map:" + current());
                        return x;
                    })
                    .mapConcurrent(4, x -> {
                        seen.add("mapConcurrent:" + current());
                        return x;
                    })
                    .to(Sink.forEach(x -> seen.add("sink:" + current())))
                    .run();
        } finally {
            request.stop();
        }

        // then every thread of the run had the run's observation current
        assertThat(seen).hasSize(2 + 3 * 32).allSatisfy(s -> assertThat(s).endsWith(":sluice.pipeline"));
        // and it was stopped with the run's outcome, name, correlation ID and items, as a child of the caller's
        Observation.Context run = runContext();
        assertThat(value(run, "pipeline")).isEqualTo("observed");
        assertThat(value(run, "outcome")).isEqualTo("completed");
        assertThat(value(run, "correlation.id")).isEqualTo(result.summary().correlationId());
        assertThat(value(run, "items")).isEqualTo("32");
        assertThat(run.getParentObservation()).isSameAs(request);
        assertThat(run.getError()).isNull();
        assertThat(current()).isEqualTo("none");
    }

    @Test
    void aFailedRunsObservationCarriesTheFailureAndTheStage() {
        // when an observed run fails
        IllegalStateException boom = new IllegalStateException("boom");
        assertThatThrownBy(() -> Pipeline.from(Source.range(0, 10))
                        .observationRegistry(registry)
                        .map(x -> {
                            throw boom;
                        })
                        .named("explode")
                        .to(Sink.count())
                        .run())
                .isInstanceOf(PipelineFailedException.class);

        // then its observation says so
        Observation.Context run = runContext();
        assertThat(value(run, "outcome")).isEqualTo("failed");
        assertThat(value(run, "stage")).isEqualTo("explode");
        assertThat(run.getError()).isSameAs(boom);
    }

    @Test
    void aRunPastItsDeadlineIsObservedAsTimedOutAndACancelledOneAsCancelled() throws Exception {
        // when one observed run passes its deadline and another is cancelled
        CountDownLatch never = new CountDownLatch(1);
        RunnablePipeline<Long> blocked = Pipeline.from(Source.range(0, 10))
                .observationRegistry(registry)
                .map(x -> {
                    never.await();
                    return x;
                })
                .to(Sink.count());
        assertThatThrownBy(() -> blocked.run(Duration.ofMillis(50))).isInstanceOf(PipelineCancelledException.class);
        PipelineHandle<Long> handle = blocked.start();
        handle.cancel();
        assertThatThrownBy(handle::await).isInstanceOf(PipelineCancelledException.class);

        // then
        assertThat(stopped).extracting(c -> value(c, "outcome")).containsExactly("timed_out", "cancelled");
        // and the passed deadline is the timed-out run's error, while the cancelled run, ended as asked, has none
        assertThat(stopped.get(0).getError())
                .isInstanceOf(TimeoutException.class)
                .hasMessageContaining("passed its deadline");
        assertThat(stopped.get(1).getError()).isNull();
    }

    @Test
    void aHandlerThatThrowsWhenAThreadLeavesTheObservationNeitherHangsNorBreaksTheRun() throws Exception {
        // given an observation registry one of whose handlers throws whenever a scope closes (on every thread)
        ObservationRegistry throwing = ObservationRegistry.create();
        throwing.observationConfig().observationHandler(new ObservationHandler<>() {
            @Override
            public void onScopeClosed(Observation.Context context) {
                throw new IllegalStateException("a handler that fails on scope close");
            }

            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }
        });

        // when an observed pipeline with a mapConcurrent and a listener runs
        PipelineResult<Long> result = Pipeline.from(Source.range(0, 100))
                .observationRegistry(throwing)
                .mapConcurrent(4, x -> x)
                .listener(new PipelineListener() {}, Duration.ofMillis(1))
                .to(Sink.count())
                .run(Duration.ofSeconds(30));

        // then it completed with every item, as if the handler had not failed
        assertThat(result.value()).isEqualTo(100);
        assertThat(result.summary().outcome()).isEqualTo(Outcome.COMPLETED);
    }

    @Test
    void aHandlerThatRecordsMetersDoesNotCountARunTwiceUnderTheRunTimersName() throws Exception {
        // given a meter registry, and an observation registry whose handler records meters into it (as Spring Boot's)
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        for (var m : List.of(meters, prometheus)) {
            ObservationRegistry observations = ObservationRegistry.create();
            observations.observationConfig().observationHandler(new DefaultMeterObservationHandler(m));

            // when a pipeline with both runs once
            Pipeline.from(Source.range(0, 10))
                    .pipelineName("metered")
                    .meterRegistry(m)
                    .observationRegistry(observations)
                    .to(Sink.count())
                    .run();
        }

        // then the run timer counts the run once, and the observation's own timer has a name of its own
        List<Timer> runTimers = List.copyOf(meters.find("sluice.pipeline.run").timers());
        assertThat(runTimers).hasSize(1);
        assertThat(runTimers.get(0).count()).isEqualTo(1);
        assertThat(meters.find("sluice.pipeline").tag("pipeline", "metered").timer())
                .isNotNull()
                .extracting(Timer::count)
                .isEqualTo(1L);
        // and a Prometheus registry, which refuses one name with two sets of tag keys, has both
        String scrape = prometheus.scrape();
        assertThat(scrape)
                .contains("sluice_pipeline_run_seconds_count{outcome=\"completed\",pipeline=\"metered\"} 1")
                .containsPattern("sluice_pipeline_seconds_count\\{[^}]*pipeline=\"metered\"[^}]*\\} 1");
    }
}
