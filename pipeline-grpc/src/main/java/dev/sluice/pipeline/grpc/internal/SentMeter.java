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
 * {@code sluice.grpc.sent}: messages a client-streaming sink or a bidirectional stage sent to its server, a function
 * counter tagged {@code pipeline}, {@code stage} and {@code method}, no base unit, shared by every run of that
 * pipeline as {@link GrpcMeters} is. Fed per message from a {@link LongAdder}; with no registry, {@link #NONE}
 * swallows the counts. (Kept apart from {@link GrpcMeters} so that a source registers only the meters it feeds.)
 */
public final class SentMeter {

    /** Counts nothing. */
    public static final SentMeter NONE = new SentMeter();

    private static final ReentrantLock LOCK = new ReentrantLock();
    private static final Map<MeterRegistry, Map<String, SentMeter>> HOLDERS = new WeakHashMap<>();

    private final LongAdder sent = new LongAdder();

    private SentMeter() {}

    /** The meter of the stage {@code context} belongs to, registered (again) at each use; {@link #NONE} without a registry. */
    public static SentMeter of(StageContext context, String method) {
        if (context == null) {
            return NONE;
        }
        MeterRegistry registry = context.meterRegistry().orElse(null);
        if (registry == null) {
            return NONE;
        }
        String pipeline = context.pipelineName();
        String stage = context.stageName();
        LOCK.lock();
        try {
            SentMeter m = HOLDERS.computeIfAbsent(registry, r -> new HashMap<>())
                    .computeIfAbsent(pipeline + '\u0000' + stage + '\u0000' + method, k -> new SentMeter());
            // Registered at each use: found where it is, brought back with the same total where it was removed.
            FunctionCounter.builder("sluice.grpc.sent", m.sent, LongAdder::sum)
                    .description("Messages sent to gRPC servers by client-streaming and bidirectional calls")
                    .tags(Tags.of("pipeline", pipeline, "stage", stage, "method", method))
                    .register(registry);
            return m;
        } finally {
            LOCK.unlock();
        }
    }

    /** One message sent. */
    public void sent() {
        if (this != NONE) {
            sent.increment();
        }
    }
}
