package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.StageContext;
import io.micrometer.core.instrument.FunctionCounter;
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
 * <p>Function counters, tags {@code pipeline}, {@code stage}, {@code method} (the full gRPC method name; a bounded
 * set, never an ID), and no base unit (a Prometheus registry names them {@code sluice_grpc_requested_total} and so
 * on):
 * <ul>
 *   <li>{@code sluice.grpc.requested}: messages requested from the server;</li>
 *   <li>{@code sluice.grpc.received}: messages taken from the call by the source;</li>
 *   <li>{@code sluice.grpc.retries}: calls repeated with the original request after a failure;</li>
 *   <li>{@code sluice.grpc.resumes}: calls that resumed a stream after its last delivered item.</li>
 * </ul>
 * The sources add to these per group of messages, never per message; with no registry nothing is registered and
 * {@link #NONE} swallows the counts. The state of a circuit breaker is resilience4j's to publish
 * ({@code TaggedCircuitBreakerMetrics} in resilience4j-micrometer).
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

    /** The meters of the stage {@code context} belongs to, registered (again) at each use; {@link #NONE} without a registry. */
    public static GrpcMeters of(StageContext context, String method) {
        if (context == null) {
            return NONE;
        }
        return context.meterRegistry()
                .map(registry -> of(registry, context.pipelineName(), context.stageName(), method))
                .orElse(NONE);
    }

    /**
     * The meters for that pipeline, stage and method in {@code registry}: registered at each call, which finds them
     * where they are and brings them back, reading the same totals, where they were removed (a cleared registry).
     */
    public static GrpcMeters of(MeterRegistry registry, String pipeline, String stage, String method) {
        LOCK.lock();
        try {
            GrpcMeters m = HOLDERS.computeIfAbsent(registry, r -> new HashMap<>())
                    .computeIfAbsent(pipeline + '\u0000' + stage + '\u0000' + method, k -> new GrpcMeters());
            register(registry, Tags.of("pipeline", pipeline, "stage", stage, "method", method), m);
            return m;
        } finally {
            LOCK.unlock();
        }
    }

    private static void register(MeterRegistry registry, Tags tags, GrpcMeters m) {
        counter(registry, "sluice.grpc.requested", "Messages requested from gRPC servers", tags, m.requested);
        counter(registry, "sluice.grpc.received", "Messages received from gRPC servers", tags, m.received);
        counter(registry, "sluice.grpc.retries", "gRPC calls retried with their original request", tags, m.retries);
        counter(
                registry,
                "sluice.grpc.resumes",
                "gRPC streams resumed after their last delivered item",
                tags,
                m.resumes);
    }

    private static void counter(MeterRegistry registry, String name, String description, Tags tags, LongAdder adder) {
        FunctionCounter.builder(name, adder, LongAdder::sum)
                .description(description)
                .tags(tags)
                .register(registry);
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
