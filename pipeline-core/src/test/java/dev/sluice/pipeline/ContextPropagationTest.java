package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ThreadLocalAccessor;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.MDC;

/**
 * Every thread of a run (each stage, each {@code mapConcurrent} worker, the thread that calls the listeners) and every
 * {@link dev.sluice.pipeline.Scope} fork starts with the context of the thread that started it: the MDC, a user's own
 * {@link ThreadLocalAccessor}, an OpenTelemetry {@link Context}; and nothing of it stays behind.
 */
@Timeout(60)
class ContextPropagationTest {

    /** A user's own thread-local context, registered globally as context-propagation asks. */
    private static final ThreadLocal<String> TENANT = new ThreadLocal<>();

    private static final String TENANT_KEY = "sluice.test.tenant";
    private static final String OTEL_KEY = "opentelemetry"; // OtelContextAccessor's

    @BeforeAll
    static void registerAccessors() {
        ContextRegistry.getInstance().registerThreadLocalAccessor(TENANT_KEY, TENANT::get, TENANT::set, TENANT::remove);
        ContextRegistry.getInstance().registerThreadLocalAccessor(new OtelContextAccessor());
    }

    @AfterAll
    static void removeAccessors() {
        ContextRegistry.getInstance().removeThreadLocalAccessor(TENANT_KEY);
        ContextRegistry.getInstance().removeThreadLocalAccessor(OTEL_KEY);
    }

    @AfterEach
    void clearCaller() {
        MDC.clear();
        TENANT.remove();
    }

    @Test
    void everyStageWorkerAndListenerSeesTheCallersMdcUnderTheRunsOwnKeys() throws Exception {
        // given a tenant in the caller's MDC
        MDC.put("tenant", "acme");
        Seen seen = new Seen(() -> MDC.get("tenant") + "/" + MDC.get(StageContext.MDC_PIPELINE));

        // when a pipeline with every kind of thread runs
        seen.pipeline("mdc").run();

        // then each of them saw the caller's tenant, with the run's own key on top
        assertThat(seen.places()).containsExactlyInAnyOrderElementsOf(Seen.PLACES);
        assertThat(seen.values()).containsOnly("acme/mdc");
        // and the caller's MDC is its own, untouched
        assertThat(MDC.getCopyOfContextMap()).isEqualTo(Map.of("tenant", "acme"));
    }

    @Test
    void aUsersOwnThreadLocalAccessorTravelsToEveryThreadOfTheRun() throws Exception {
        // given a value in a thread-local whose accessor is in the global registry
        TENANT.set("globex");
        Seen seen = new Seen(TENANT::get);

        // when the pipeline runs
        seen.pipeline("accessor").run();

        // then every thread of the run saw it
        assertThat(seen.places()).containsExactlyInAnyOrderElementsOf(Seen.PLACES);
        assertThat(seen.values()).containsOnly("globex");
        assertThat(TENANT.get()).isEqualTo("globex");
    }

    @Test
    void anOpenTelemetrySpanIsCurrentInEveryThreadOfTheRun() throws Exception {
        // given a span current on the caller's thread
        InMemorySpanExporter exporter = InMemorySpanExporter.create();
        try (SdkTracerProvider tracing = SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                .build()) {
            Tracer tracer = tracing.get("sluice-test");
            Span request = tracer.spanBuilder("request").startSpan();
            Seen seen = new Seen(() -> Span.current().getSpanContext().getSpanId());
            try (Scope ignored = request.makeCurrent()) {
                // when the pipeline runs, each stage also opening a span of its own
                seen.stages("otel", p -> p)
                        .map(x -> {
                            Span child = tracer.spanBuilder("child").startSpan();
                            child.end();
                            return x;
                        })
                        .to(Sink.forEach(x -> seen.record("sink")))
                        .run();
            } finally {
                request.end();
            }

            // then every thread saw the caller's span as current, and spans opened there are its children
            assertThat(seen.places()).containsExactlyInAnyOrderElementsOf(Seen.PLACES);
            assertThat(seen.values()).containsOnly(request.getSpanContext().getSpanId());
            assertThat(exporter.getFinishedSpanItems())
                    .filteredOn(s -> s.getName().equals("child"))
                    .isNotEmpty()
                    .allSatisfy(s -> assertThat(s.getParentSpanId())
                            .isEqualTo(request.getSpanContext().getSpanId()));
            assertThat(Span.current().getSpanContext()).isEqualTo(SpanContext.getInvalid());
        }
    }

    @RepeatedTest(20)
    void nothingOfOneRunsContextIsLeftForTheNextRun() throws Exception {
        // given a run started with a context
        MDC.put("tenant", "first");
        TENANT.set("first");
        new Seen(TENANT::get).pipeline("first").run();

        // when the next run starts from a caller without one
        MDC.clear();
        TENANT.remove();
        Seen seen = new Seen(() -> MDC.get("tenant") + "/" + TENANT.get());
        seen.pipeline("second").run();

        // then none of its threads sees anything of the first
        assertThat(seen.places()).containsExactlyInAnyOrderElementsOf(Seen.PLACES);
        assertThat(seen.values()).containsOnly("null/null");
    }

    @Test
    void aContextRestoredOnAReusedThreadIsGoneWhenItsTaskEnds() throws Exception {
        // given one platform thread that runs task after task, as a pool's thread does
        try (var pool = java.util.concurrent.Executors.newSingleThreadExecutor()) {
            MDC.put("tenant", "acme");
            TENANT.set("acme");
            var captured = dev.sluice.pipeline.internal.CallerContext.capture();
            MDC.clear();
            TENANT.remove();

            // when a task runs in the captured context, then another runs without it
            String during = pool.submit(() -> {
                        try (var restored = captured.restore()) {
                            return MDC.get("tenant") + "/" + TENANT.get();
                        }
                    })
                    .get();
            String after =
                    pool.submit(() -> MDC.get("tenant") + "/" + TENANT.get()).get();

            // then the first saw it and the second sees nothing of it
            assertThat(during).isEqualTo("acme/acme");
            assertThat(after).isEqualTo("null/null");
        }
    }

    @Test
    void withPropagationOffTheRunsThreadsCarryOnlyTheRunsOwnKeys() throws Exception {
        // given a caller with a context, and a pipeline that turns propagation off
        MDC.put("tenant", "acme");
        TENANT.set("acme");
        Seen seen = new Seen(() -> MDC.get("tenant") + "/" + TENANT.get() + "/" + MDC.get(StageContext.MDC_PIPELINE));

        // when it runs
        seen.pipeline("off", p -> p.propagateContext(false)).run();

        // then no thread of the run saw the caller's context, but each has the run's keys
        assertThat(seen.places()).containsExactlyInAnyOrderElementsOf(Seen.PLACES);
        assertThat(seen.values()).containsOnly("null/null/off");
    }

    @Test
    void withPropagationOffNoThreadInheritsTheCallersInheritableThreadLocals() throws Exception {
        // given a caller with an inheritable thread-local, as some MDC adapters keep theirs
        InheritableThreadLocal<String> inherited = new InheritableThreadLocal<>();
        inherited.set("acme");
        try {
            Seen off = new Seen(inherited::get);
            Seen on = new Seen(inherited::get);

            // when a pipeline runs with propagation off, another with it on, and scope forks likewise
            off.pipeline("off", p -> p.propagateContext(false)).run();
            on.pipeline("on", p -> p).run();
            String offFork;
            String onFork;
            try (dev.sluice.pipeline.Scope scope =
                    dev.sluice.pipeline.Scope.builder().propagateContext(false).open()) {
                Fork<String> fork = scope.fork(inherited::get);
                scope.join();
                offFork = String.valueOf(fork.result());
            }
            try (dev.sluice.pipeline.Scope scope = dev.sluice.pipeline.Scope.open()) {
                Fork<String> fork = scope.fork(inherited::get);
                scope.join();
                onFork = fork.result();
            }

            // then with propagation off no thread of the run, and no fork, has the caller's value; with it on, all do
            assertThat(off.places()).containsExactlyInAnyOrderElementsOf(Seen.PLACES);
            assertThat(off.values()).containsOnly("null");
            assertThat(offFork).isEqualTo("null");
            assertThat(on.values()).containsOnly("acme");
            assertThat(onFork).isEqualTo("acme");
        } finally {
            inherited.remove();
        }
    }

    @Test
    void aRunStartedFromAStageShowsItsListenersNoStageOfTheOuterRun() throws Exception {
        // given an inner pipeline whose listener records the MDC's stage key, run from a stage of an outer one
        List<String> stages = new CopyOnWriteArrayList<>();
        PipelineListener listener = new PipelineListener() {
            @Override
            public void onStart(PipelineSnapshot start) {
                stages.add("onStart:" + MDC.get(StageContext.MDC_STAGE));
            }

            @Override
            public void onProgress(PipelineSnapshot progress) {
                stages.add("onProgress:" + MDC.get(StageContext.MDC_STAGE));
            }

            @Override
            public void onFinish(PipelineSummary summary) {
                stages.add("onFinish:" + MDC.get(StageContext.MDC_STAGE));
            }
        };
        RunnablePipeline<Long> inner = Pipeline.from(Source.range(0, 3))
                .listener(listener, java.time.Duration.ofMillis(1))
                .to(Sink.count());

        // when the outer stage "lookup" runs it
        long count = Pipeline.from(Source.of(1))
                .map(x -> inner.run().value())
                .named("lookup")
                .to(Sink.reduce(0L, Long::sum))
                .run()
                .value();

        // then the inner run's listeners saw no stage: they are not on a stage's thread
        assertThat(count).isEqualTo(3);
        assertThat(stages).contains("onStart:null", "onFinish:null").allMatch(s -> s.endsWith(":null"));
    }

    @Test
    void anAccessorThePipelineNamesTravelsEvenWithPropagationOff() throws Exception {
        // given a thread-local not in the global registry, named by the pipeline itself
        ThreadLocal<String> region = new ThreadLocal<>();
        region.set("eu-west");
        ThreadLocalAccessor<String> regionAccessor = new ThreadLocalAccessor<>() {
            @Override
            public Object key() {
                return "region";
            }

            @Override
            public String getValue() {
                return region.get();
            }

            @Override
            public void setValue(String value) {
                region.set(value);
            }

            @Override
            public void setValue() {
                region.remove();
            }
        };
        TENANT.set("acme");
        Seen seen = new Seen(() -> region.get() + "/" + TENANT.get());

        // when it runs with the rest of the caller's context turned off
        seen.pipeline("named", p -> p.propagateContext(false).propagate(regionAccessor))
                .run();

        // then only the named one travelled
        assertThat(seen.places()).containsExactlyInAnyOrderElementsOf(Seen.PLACES);
        assertThat(seen.values()).containsOnly("eu-west/null");
        region.remove();
    }

    @Test
    void aScopesForksStartWithTheForkingThreadsContextUnlessTurnedOff() throws Exception {
        // given a caller with a context
        MDC.put("tenant", "acme");
        TENANT.set("acme");

        // when forks run in a scope that propagates and in one that does not
        String propagated;
        String notPropagated;
        try (dev.sluice.pipeline.Scope scope = dev.sluice.pipeline.Scope.open()) {
            Fork<String> fork = scope.fork(() -> MDC.get("tenant") + "/" + TENANT.get());
            scope.join();
            propagated = fork.result();
        }
        try (dev.sluice.pipeline.Scope scope =
                dev.sluice.pipeline.Scope.builder().propagateContext(false).open()) {
            Fork<String> fork = scope.fork(() -> MDC.get("tenant") + "/" + TENANT.get());
            scope.join();
            notPropagated = fork.result();
        }

        // then
        assertThat(propagated).isEqualTo("acme/acme");
        assertThat(notPropagated).isEqualTo("null/null");
    }

    /**
     * Records what each kind of thread of a run sees: the source, a map, each worker of a mapConcurrent, a batch,
     * the sink, and the listener's start, progress and finish.
     */
    private static final class Seen {
        static final List<String> PLACES =
                List.of("source", "map", "mapConcurrent", "sink", "onStart", "onProgress", "onFinish");

        private final Supplier<String> probe;
        private final Map<String, List<String>> seen = new ConcurrentHashMap<>();

        Seen(Supplier<String> probe) {
            this.probe = probe;
        }

        void record(String place) {
            seen.computeIfAbsent(place, p -> new CopyOnWriteArrayList<>()).add(String.valueOf(probe.get()));
        }

        List<String> places() {
            return List.copyOf(seen.keySet());
        }

        List<String> values() {
            return seen.values().stream().flatMap(List::stream).toList();
        }

        RunnablePipeline<Long> pipeline(String name) {
            return pipeline(name, p -> p);
        }

        RunnablePipeline<Long> pipeline(String name, java.util.function.UnaryOperator<Pipeline<Integer>> options) {
            return stages(name, options).to(Sink.forEach(x -> record("sink")));
        }

        Pipeline<Integer> stages(String name, java.util.function.UnaryOperator<Pipeline<Integer>> options) {
            PipelineListener listener = new PipelineListener() {
                @Override
                public void onStart(PipelineSnapshot start) {
                    record("onStart");
                }

                @Override
                public void onProgress(PipelineSnapshot progress) {
                    record("onProgress");
                }

                @Override
                public void onFinish(PipelineSummary summary) {
                    record("onFinish");
                }
            };
            Pipeline<Integer> p = Pipeline.<Integer>from(emitter -> {
                        record("source");
                        for (int i = 0; i < 64; i++) {
                            emitter.emit(i);
                        }
                    })
                    .pipelineName(name)
                    .listener(listener, java.time.Duration.ofMillis(1));
            return options.apply(p)
                    .map(x -> {
                        record("map");
                        if (x == 0) {
                            // hold the run until the listener has reported progress at least once
                            org.awaitility.Awaitility.await().until(() -> seen.containsKey("onProgress"));
                        }
                        return x;
                    })
                    .mapConcurrent(4, x -> {
                        record("mapConcurrent");
                        return x;
                    });
        }
    }

    /**
     * An accessor for OpenTelemetry's {@link Context}: what a user registers so that OpenTelemetry's context travels
     * with context-propagation (OpenTelemetry itself ships none).
     */
    static final class OtelContextAccessor implements ThreadLocalAccessor<Context> {
        private static final ThreadLocal<Deque<Scope>> SCOPES = ThreadLocal.withInitial(ArrayDeque::new);

        @Override
        public Object key() {
            return "opentelemetry";
        }

        @Override
        public Context getValue() {
            Context current = Context.current();
            return current == Context.root() ? null : current;
        }

        @Override
        public void setValue(Context value) {
            SCOPES.get().push(value.makeCurrent());
        }

        @Override
        public void setValue() {
            SCOPES.get().push(Context.root().makeCurrent());
        }

        @Override
        public void restore(Context previous) {
            closeLast();
        }

        @Override
        public void restore() {
            closeLast();
        }

        private static void closeLast() {
            Deque<Scope> scopes = SCOPES.get();
            Objects.requireNonNull(scopes.poll(), "no OpenTelemetry scope to close")
                    .close();
            if (scopes.isEmpty()) {
                SCOPES.remove();
            }
        }
    }
}
