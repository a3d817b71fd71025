package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.StageContext;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The gRPC meters of one stage calling one method, shared by every run of that pipeline (Micrometer keeps the
 * first object registered under a meter ID, so a second run must find and feed the first run's holder).
 *
 * <p>Meters, tags {@code pipeline}, {@code stage}, {@code method} (the full gRPC method name):
 * <ul>
 *   <li>{@code pipeline.grpc.requested}: messages requested from the server (function counter);</li>
 *   <li>{@code pipeline.grpc.received}: messages taken from the call by the source;</li>
 *   <li>{@code pipeline.grpc.retries}: calls repeated with the original request after a failure;</li>
 *   <li>{@code pipeline.grpc.resumes}: calls that resumed a stream after its last delivered item;</li>
 *   <li>{@code pipeline.grpc.circuit.state} (gauge, tag {@code target}, the breaker's name): 0 closed, 1 half-open,
 *       2 open, 3 another state (disabled, forced open, metrics only).</li>
 * </ul>
 * The sources add to these per group of messages, never per message; with no registry nothing is registered and
 * {@link #NONE} swallows the counts.
 */
public final class GrpcMeters {

    /** Counts nothing: for code running outside a pipeline with no registry. */
    public static final GrpcMeters NONE = new GrpcMeters();

    private static final ReentrantLock LOCK = new ReentrantLock();
    private static final Map<MeterRegistry, Map<String, GrpcMeters>> HOLDERS = new WeakHashMap<>();

    private final LongAdder requested = new LongAdder();
    private final LongAdder received = new LongAdder();
    private final LongAdder retries = new LongAdder();
    private final LongAdder resumes = new LongAdder();

    private GrpcMeters() {}

    /** The meters of the stage {@code context} belongs to, registered on first use; {@link #NONE} without a registry. */
    public static GrpcMeters of(StageContext context, String method) {
        if (context == null) {
            return NONE;
        }
        return context.meterRegistry()
                .map(registry -> of(registry, context.pipelineName(), context.stageName(), method))
                .orElse(NONE);
    }

    /** The meters for that pipeline, stage and method in {@code registry}, registered on first use. */
    public static GrpcMeters of(MeterRegistry registry, String pipeline, String stage, String method) {
        LOCK.lock();
        try {
            return HOLDERS.computeIfAbsent(registry, r -> new HashMap<>())
                    .computeIfAbsent(
                            pipeline + '\u0000' + stage + '\u0000' + method,
                            k -> register(registry, Tags.of("pipeline", pipeline, "stage", stage, "method", method)));
        } finally {
            LOCK.unlock();
        }
    }

    private static GrpcMeters register(MeterRegistry registry, Tags tags) {
        GrpcMeters m = new GrpcMeters();
        counter(
                registry,
                "pipeline.grpc.requested",
                "Messages requested from gRPC servers",
                "messages",
                tags,
                m.requested);
        counter(
                registry,
                "pipeline.grpc.received",
                "Messages received from gRPC servers",
                "messages",
                tags,
                m.received);
        counter(
                registry,
                "pipeline.grpc.retries",
                "gRPC calls retried with their original request",
                "calls",
                tags,
                m.retries);
        counter(
                registry,
                "pipeline.grpc.resumes",
                "gRPC streams resumed after their last delivered item",
                "calls",
                tags,
                m.resumes);
        return m;
    }

    private static void counter(
            MeterRegistry registry, String name, String description, String unit, Tags tags, LongAdder adder) {
        FunctionCounter.builder(name, adder, LongAdder::sum)
                .description(description)
                .tags(tags)
                .baseUnit(unit)
                .register(registry);
    }

    /** Registers the state gauge of {@code breaker} (once per registry and breaker name). */
    public static void bindCircuitBreaker(StageContext context, CircuitBreaker breaker) {
        if (context == null || breaker == null) {
            return;
        }
        context.meterRegistry()
                .ifPresent(
                        registry -> Gauge.builder("pipeline.grpc.circuit.state", breaker, b -> stateValue(b.getState()))
                                .description(
                                        "State of the circuit breaker of a gRPC target: 0 closed, 1 half-open, 2 open, 3 other")
                                .tag("target", breaker.getName())
                                .strongReference(true)
                                .register(registry));
    }

    static double stateValue(CircuitBreaker.State state) {
        return switch (state) {
            case CLOSED -> 0;
            case HALF_OPEN -> 1;
            case OPEN -> 2;
            default -> 3;
        };
    }

    public void requested(long n) {
        if (this != NONE) {
            requested.add(n);
        }
    }

    public void received(long n) {
        if (this != NONE) {
            received.add(n);
        }
    }

    public void retried() {
        if (this != NONE) {
            retries.increment();
        }
    }

    public void resumed() {
        if (this != NONE) {
            resumes.increment();
        }
    }
}
