package dev.sluice.pipeline.grpc;

import io.micrometer.observation.ObservationHandler.FirstMatchingCompositeObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.otel.bridge.OtelBaggageManager;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.micrometer.tracing.propagation.Propagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.List;

/**
 * A tracer as an application wires one: Micrometer Tracing bridged to OpenTelemetry's SDK, with W3C trace-context
 * propagation and the propagating handlers on an observation registry, exporting every ended span to memory. Not
 * registered globally: each test has its own.
 */
final class InMemoryTracing implements AutoCloseable {

    /** Observations recorded here become spans. */
    final ObservationRegistry registry = ObservationRegistry.create();

    final Tracer tracer;
    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final SdkTracerProvider provider;

    InMemoryTracing() {
        provider = SdkTracerProvider.builder()
                .setSampler(Sampler.alwaysOn())
                .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                .build();
        // docs/context.md: tracer
        ContextPropagators propagators = ContextPropagators.create(W3CTraceContextPropagator.getInstance());
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(provider)
                .setPropagators(propagators)
                .build();
        io.opentelemetry.api.trace.Tracer otel = sdk.getTracer("sluice");
        OtelCurrentTraceContext current = new OtelCurrentTraceContext();
        Tracer tracer =
                new OtelTracer(otel, current, event -> {}, new OtelBaggageManager(current, List.of(), List.of()));
        Propagator propagator = new OtelPropagator(propagators, otel);
        registry.observationConfig()
                .observationHandler(new FirstMatchingCompositeObservationHandler(
                        new PropagatingSenderTracingObservationHandler<>(tracer, propagator), // client calls
                        new PropagatingReceiverTracingObservationHandler<>(tracer, propagator), // served calls
                        new DefaultTracingObservationHandler(tracer))); // runs
        // docs/context.md: end
        this.tracer = tracer;
    }

    /** The spans ended so far, in the order they ended. */
    List<SpanData> spans() {
        return exporter.getFinishedSpanItems();
    }

    @Override
    public void close() {
        provider.close();
    }
}
