package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.StageContext;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The meters of the calls a pipeline serves through {@code ServerStreams}, registered in the served pipeline's meter
 * registry and shared by all its runs (as {@link GrpcMeters} are). Function counters tagged {@code pipeline} (the
 * served pipeline's name: the server never learns the method from the observer it is given), no base unit:
 * <ul>
 *   <li>{@code sluice.grpc.server.calls}: calls whose pipeline started;</li>
 *   <li>{@code sluice.grpc.server.cancellations}: those of them cancelled from the client's side (a cancel, the
 *       call's deadline, a lost connection): the call's cancel handler ran;</li>
 *   <li>{@code sluice.grpc.server.received}: client messages the pipeline's source took (client-streaming and
 *       bidirectional calls);</li>
 *   <li>{@code sluice.grpc.server.sent}: responses written to the calls.</li>
 * </ul>
 * Each call has a {@link Call}, which learns the registry when the first stage of its run starts (the registry is
 * the pipeline's, known only to its stages); with no registry nothing is registered and the counts are dropped.
 */
public final class ServerMeters {

    private static final ServerMeters NONE = new ServerMeters();
    private static final ReentrantLock LOCK = new ReentrantLock();
    private static final Map<MeterRegistry, Map<String, ServerMeters>> HOLDERS = new WeakHashMap<>();

    private final LongAdder calls = new LongAdder();
    private final LongAdder cancellations = new LongAdder();
    private final LongAdder received = new LongAdder();
    private final LongAdder sent = new LongAdder();

    private ServerMeters() {}

    private static ServerMeters of(StageContext context) {
        MeterRegistry registry = context.meterRegistry().orElse(null);
        if (registry == null) {
            return NONE;
        }
        String pipeline = context.pipelineName();
        LOCK.lock();
        try {
            ServerMeters m = HOLDERS.computeIfAbsent(registry, r -> new HashMap<>())
                    .computeIfAbsent(pipeline, k -> new ServerMeters());
            // Registered at each use: found where they are, brought back with the same totals where removed.
            register(registry, Tags.of("pipeline", pipeline), m);
            return m;
        } finally {
            LOCK.unlock();
        }
    }

    private static void register(MeterRegistry registry, Tags tags, ServerMeters m) {
        counter(registry, "sluice.grpc.server.calls", "gRPC calls served by a pipeline", tags, m.calls);
        counter(
                registry,
                "sluice.grpc.server.cancellations",
                "Served gRPC calls cancelled from the client's side",
                tags,
                m.cancellations);
        counter(
                registry,
                "sluice.grpc.server.received",
                "Client messages taken by the pipelines serving gRPC calls",
                tags,
                m.received);
        counter(
                registry,
                "sluice.grpc.server.sent",
                "Responses sent by the pipelines serving gRPC calls",
                tags,
                m.sent);
    }

    private static void counter(MeterRegistry registry, String name, String description, Tags tags, LongAdder adder) {
        FunctionCounter.builder(name, adder, LongAdder::sum)
                .description(description)
                .tags(tags)
                .register(registry);
    }

    /**
     * One served call's view of the meters: counts nothing until a stage of its run has {@linkplain #started started};
     * a cancellation that came before is counted then. Thread-safe: the stages and gRPC's cancel handler call it.
     */
    public static final class Call {
        private final AtomicReference<ServerMeters> meters = new AtomicReference<>();
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final AtomicBoolean cancellationCounted = new AtomicBoolean();

        /** A stage of the call's run started (the first one counts the call). */
        public void started(StageContext context) {
            if (meters.get() == null) {
                ServerMeters m = of(context);
                if (meters.compareAndSet(null, m)) {
                    m.calls.increment();
                    countCancellation();
                }
            }
        }

        /** The call's cancel handler ran (gRPC thread; never blocks). */
        public void cancelled() {
            if (cancelled.compareAndSet(false, true)) {
                countCancellation();
            }
        }

        /** The source took one client message. */
        public void received() {
            ServerMeters m = meters.get();
            if (m != null && m != NONE) {
                m.received.increment();
            }
        }

        /** One response was written to the call. */
        public void sent() {
            ServerMeters m = meters.get();
            if (m != null && m != NONE) {
                m.sent.increment();
            }
        }

        /** Counts the cancellation once both are known: the meters and that the call was cancelled. */
        private void countCancellation() {
            ServerMeters m = meters.get();
            if (m != null && cancelled.get() && cancellationCounted.compareAndSet(false, true)) {
                m.cancellations.increment();
            }
        }
    }
}
