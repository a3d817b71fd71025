package dev.sluice.pipeline.kafka;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The meters of a {@link KafkaSource}'s runs, in the run's registry if it has one (else nothing is registered and
 * every method does nothing). Tags: {@code pipeline}, and {@code topic} and {@code partition} for the lag.
 *
 * <ul>
 *   <li>{@code sluice.kafka.lag}: gauge per assigned partition, records between the consumer's position and the
 *       partition's end, as of the last poll; removed when the partition is revoked or lost.
 *   <li>{@code sluice.kafka.commits}: counter, tag {@code outcome} = {@code committed} or {@code failed}.
 *   <li>{@code sluice.kafka.pauses}: counter, each time the source paused its partitions because the pipeline was
 *       full.
 *   <li>{@code sluice.kafka.rebalances}: counter, tag {@code kind} = {@code assigned}, {@code revoked} or
 *       {@code lost}.
 * </ul>
 *
 * Events are rare (a commit per interval, a pause per full pipeline), so counters are incremented directly; the lag
 * gauge reads the partition's state. Thread-safe.
 */
final class KafkaMeters {

    static final String LAG = "sluice.kafka.lag";
    static final String COMMITS = "sluice.kafka.commits";
    static final String PAUSES = "sluice.kafka.pauses";
    static final String REBALANCES = "sluice.kafka.rebalances";

    /**
     * Held while a lag gauge is replaced or removed: runs of one pipeline in one JVM share a partition's gauge (its
     * id), and one run's removal must not take away the gauge another run has registered since.
     */
    private static final Lock LAG_GAUGES = new ReentrantLock();

    private final MeterRegistry registry;
    private final Tags tags;
    private final Map<PartitionState, Gauge> lags = new ConcurrentHashMap<>();

    private KafkaMeters(MeterRegistry registry, String pipelineName) {
        this.registry = registry;
        this.tags = Tags.of("pipeline", pipelineName);
    }

    static KafkaMeters of(Optional<MeterRegistry> registry, String pipelineName) {
        return new KafkaMeters(registry.orElse(null), pipelineName);
    }

    void assigned(PartitionState state) {
        if (registry == null) {
            return;
        }
        Tags partitionTags = tags.and(
                "topic",
                state.topicPartition().topic(),
                "partition",
                Integer.toString(state.topicPartition().partition()));
        LAG_GAUGES.lock();
        try {
            // A partition assigned again (to this JVM) replaces its former gauge, which read the former state.
            registry.find(LAG).tags(partitionTags).meters().forEach(registry::remove);
            lags.put(
                    state,
                    Gauge.builder(LAG, state, PartitionState::lag)
                            .tags(partitionTags)
                            .description("records between the consumer's position and the partition's end")
                            .strongReference(true)
                            .register(registry));
        } finally {
            LAG_GAUGES.unlock();
        }
    }

    void unassigned(PartitionState state) {
        Gauge gauge = lags.remove(state);
        if (gauge == null) {
            return;
        }
        LAG_GAUGES.lock();
        try {
            // Only this run's own: the partition may have been assigned to another run of this pipeline since.
            if (registry.find(LAG).tags(gauge.getId().getTags()).gauge() == gauge) {
                registry.remove(gauge);
            }
        } finally {
            LAG_GAUGES.unlock();
        }
    }

    void committed(boolean succeeded) {
        if (registry != null) {
            Counter.builder(COMMITS)
                    .tags(tags.and("outcome", succeeded ? "committed" : "failed"))
                    .description("offset commits of a Kafka source")
                    .register(registry)
                    .increment();
        }
    }

    void paused() {
        if (registry != null) {
            Counter.builder(PAUSES)
                    .tags(tags)
                    .description("times a Kafka source paused its partitions because the pipeline was full")
                    .register(registry)
                    .increment();
        }
    }

    void rebalanced(String kind) {
        if (registry != null) {
            Counter.builder(REBALANCES)
                    .tags(tags.and("kind", kind))
                    .description("partitions assigned, revoked or lost in a Kafka source's consumer group")
                    .register(registry)
                    .increment();
        }
    }
}
