package dev.sluice.pipeline.examples.kafka;

import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.AuditWriter;
import dev.sluice.pipeline.kafka.KafkaRebalance;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Writes each rebalance a {@code KafkaSource} reports as an audit row, beside the rows of the pipeline's runs: give
 * it to {@code KafkaSource.Builder.onRebalance}. The row has the run's pipeline name and correlation ID, so a query
 * by correlation ID finds a run and the partitions it got and gave up.
 *
 * <ul>
 *   <li>type {@value #EVENT_TYPE}; outcome {@code ASSIGNED}, {@code REVOKED} or {@code LOST} (a lost partition is not
 *       a success: the member was thrown out of its group); started and ended when the source handled it;
 *   <li>items: the partitions that moved;
 *   <li>additional data: {@code groupId}, {@code memberId}, {@code generationId}, {@code partitions}
 *       ({@code topic-partition}), {@code offsets} (per partition: where it is read from, for an assignment; what was
 *       committed, for a revocation), {@code droppedRecords} and {@code unfinishedRecords}.
 * </ul>
 *
 * It runs on the source's poll thread: {@link AuditWriter#log} only queues the event, and waits only while the
 * writer's queue is full. Thread-safe, as the writer is.
 */
final class RebalanceAudit implements Consumer<KafkaRebalance> {

    /** The event type of a rebalance's audit row. */
    static final String EVENT_TYPE = "Kafka:Rebalance";

    private final AuditWriter writer;

    private RebalanceAudit(AuditWriter writer) {
        this.writer = writer;
    }

    /** A listener that writes to {@code writer}, which it never closes. */
    static RebalanceAudit to(AuditWriter writer) {
        return new RebalanceAudit(writer);
    }

    @Override
    public void accept(KafkaRebalance rebalance) {
        writer.log(event(rebalance));
    }

    /** The audit event of one rebalance. */
    static AuditEvent event(KafkaRebalance r) {
        Map<String, Object> offsets = new LinkedHashMap<>();
        r.offsets().forEach((tp, offset) -> offsets.put(tp.toString(), offset));
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("groupId", r.groupId());
        data.put("memberId", r.memberId());
        data.put("generationId", r.generationId());
        data.put("partitions", r.partitions().stream().map(Object::toString).toList());
        data.put("offsets", offsets);
        data.put("droppedRecords", r.droppedRecords());
        data.put("unfinishedRecords", r.unfinishedRecords());
        return AuditEvent.builder(EVENT_TYPE, r.pipelineName(), r.correlationId())
                .startedAt(r.at())
                .endedAt(r.at())
                .itemCount(r.partitions().size())
                .success(r.kind() != KafkaRebalance.Kind.LOST)
                .outcome(r.kind().name())
                .additionalData(data)
                .build();
    }
}
