package dev.sluice.pipeline.kafka;

import dev.sluice.pipeline.internal.check.Require;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * What one rebalance of a consumer group changed for one member, a run of a {@link KafkaSource}: the partitions it
 * was assigned, had revoked or lost, as the source handled them. {@link KafkaSource.Builder#onRebalance} hands one to
 * a listener for each change, to record it (for example as an audit row: see docs/kafka.md).
 *
 * <p>Immutable and thread-safe; the partitions are sorted by topic and partition number, and {@code offsets} in the
 * same order.
 *
 * <p>Incubating: may change in a minor release.
 *
 * @param kind what happened to the partitions
 * @param pipelineName the name of the pipeline the source runs in
 * @param correlationId the correlation ID of that pipeline's run, which its audit row carries too
 * @param groupId the consumer group
 * @param memberId this member's ID in the group as of the rebalance (empty if the group has not given it one)
 * @param generationId the group's generation as of the rebalance ({@code -1} if unknown)
 * @param partitions the partitions assigned, revoked or lost; never empty
 * @param offsets for {@link Kind#ASSIGNED}, the offset each partition is read from; for {@link Kind#REVOKED}, the offset
 *     committed for each once the source handled the revocation, where the partition's next owner starts; empty for
 *     {@link Kind#LOST}, when nothing is committed
 * @param droppedRecords records of these partitions that were fetched and not yet emitted, and are dropped (their next
 *     owner reads them); 0 for {@link Kind#ASSIGNED}
 * @param unfinishedRecords records of these partitions that were emitted and had not finished when the source stopped
 *     waiting for them (the drain timeout; at once for lost partitions): their next owner reads them again, so they
 *     may be processed twice; 0 for {@link Kind#ASSIGNED}
 * @param at when the source handled the change
 * @since 0.1
 */
public record KafkaRebalance(
        Kind kind,
        String pipelineName,
        String correlationId,
        String groupId,
        String memberId,
        int generationId,
        List<TopicPartition> partitions,
        Map<TopicPartition, Long> offsets,
        int droppedRecords,
        int unfinishedRecords,
        Instant at) {

    /**
     * What a rebalance did to a member's partitions.
     *
     * @since 0.1
     */
    public enum Kind {
        /** Partitions were given to the member: it starts reading them. */
        ASSIGNED,
        /**
         * Partitions were taken from the member in an orderly way (another member joined or left, or this run ended):
         * the records in flight got the drain timeout to finish, and what finished was committed.
         */
        REVOKED,
        /**
         * Partitions were taken from the member without its part: it was thrown out of the group (it missed its
         * heartbeats or {@code max.poll.interval.ms}), and another member may already own them. Nothing is committed.
         */
        LOST
    }

    /**
     * Checks and copies the values.
     *
     * @throws NullPointerException if a value is null
     * @throws IllegalArgumentException if {@code partitions} is empty, a count is negative, or {@code offsets} names a
     *     partition not in {@code partitions}
     */
    public KafkaRebalance {
        Require.nonNull(kind, "kind");
        Require.nonNull(pipelineName, "pipelineName");
        Require.nonNull(correlationId, "correlationId");
        Require.nonNull(groupId, "groupId");
        Require.nonNull(memberId, "memberId");
        Require.nonNull(partitions, "partitions");
        Require.nonNull(offsets, "offsets");
        Require.nonNull(at, "at");
        Require.argument(!partitions.isEmpty(), "partitions", "name at least one partition", partitions);
        Require.argument(droppedRecords >= 0, "droppedRecords", "not be negative", droppedRecords);
        Require.argument(unfinishedRecords >= 0, "unfinishedRecords", "not be negative", unfinishedRecords);
        Require.argument(
                partitions.containsAll(offsets.keySet()),
                "offsets",
                "name only partitions of " + partitions,
                offsets.keySet());
        List<TopicPartition> sorted = new ArrayList<>(partitions);
        sorted.sort(ORDER);
        partitions = List.copyOf(sorted);
        Map<TopicPartition, Long> ordered = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            Long offset = offsets.get(tp);
            if (offset != null) {
                ordered.put(tp, offset);
            }
        }
        offsets = Collections.unmodifiableMap(ordered);
    }

    private static final Comparator<TopicPartition> ORDER =
            Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);
}
