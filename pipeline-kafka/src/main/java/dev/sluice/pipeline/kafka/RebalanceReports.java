package dev.sluice.pipeline.kafka;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells a run's {@linkplain KafkaSource.Builder#onRebalance rebalance listener} of each change, as a
 * {@link KafkaRebalance}. Used on the run's poll thread only; a listener that throws is logged, never fails the run.
 */
final class RebalanceReports {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class);

    private final Consumer<? super KafkaRebalance> listener;
    private final String pipelineName;
    private final String correlationId;
    private final String groupId;

    RebalanceReports(
            Consumer<? super KafkaRebalance> listener, String pipelineName, String correlationId, String groupId) {
        this.listener = listener;
        this.pipelineName = pipelineName;
        this.correlationId = correlationId;
        this.groupId = groupId;
    }

    /**
     * Tells the listener of one change.
     *
     * @param group the consumer's group metadata as of the change, or null if it has none
     */
    void report(
            KafkaRebalance.Kind kind,
            Collection<TopicPartition> partitions,
            Map<TopicPartition, Long> offsets,
            int dropped,
            int unfinished,
            ConsumerGroupMetadata group) {
        try {
            listener.accept(new KafkaRebalance(
                    kind,
                    pipelineName,
                    correlationId,
                    groupId,
                    group == null ? "" : group.memberId(),
                    group == null ? -1 : group.generationId(),
                    List.copyOf(partitions),
                    offsets,
                    dropped,
                    unfinished,
                    Instant.now()));
        } catch (Throwable e) { // an Error too: Kafka's consumer would throw it out of poll(), failing the run
            LOG.warn("pipeline '{}': the rebalance listener failed on {} {}", pipelineName, kind, partitions, e);
        }
    }
}
