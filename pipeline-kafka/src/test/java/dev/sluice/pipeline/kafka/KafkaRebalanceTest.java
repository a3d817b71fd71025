package dev.sluice.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.StageContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.MDC;

/** {@link KafkaSource.Builder#onRebalance}: what each member of a group is told when another joins. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class KafkaRebalanceTest {

    private static final Duration PATIENCE = Topics.PATIENCE;

    private final KafkaBroker broker = KafkaBroker.shared();

    @Test
    void aSecondMemberJoiningIsReportedToBothMembersWithThePartitionsThatMovedAndTheirOffsets() throws Exception {
        // given a first member that has read the whole topic of 4 partitions
        String topic = Topics.unique("rebalance");
        String group = topic + "-group";
        broker.createTopic(topic, 4);
        Topics.write(broker, topic, Topics.numbers(400), 40);
        Map<TopicPartition, Long> ends = endOffsets(topic, 4);
        Queue<KafkaRebalance> reported = new ConcurrentLinkedQueue<>();
        AtomicLong processed = new AtomicLong();
        KafkaSource<String, String> source = KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                .bootstrapServers(broker.bootstrapServers())
                .groupId(group)
                .topics(topic)
                .commitInterval(Duration.ofMillis(100))
                .property(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer")
                .onRebalance(reported::add)
                .build();
        PipelineHandle<Long> first = Pipeline.from(source)
                .pipelineName(topic)
                .correlationId("member-a")
                .to(Sink.forEach(r -> processed.incrementAndGet()))
                .start();
        await().atMost(PATIENCE).until(() -> processed.get() == 400);
        assertThat(reported).singleElement().satisfies(a -> {
            assertThat(a.kind()).isEqualTo(KafkaRebalance.Kind.ASSIGNED);
            assertThat(a.correlationId()).isEqualTo("member-a");
            assertThat(a.pipelineName()).isEqualTo(topic);
            assertThat(a.groupId()).isEqualTo(group);
            assertThat(a.partitions()).containsExactlyElementsOf(ends.keySet());
            assertThat(a.offsets())
                    .containsOnlyKeys(ends.keySet())
                    .allSatisfy((tp, offset) -> assertThat(offset).isZero());
        });
        await().atMost(PATIENCE).until(() -> Topics.committed(broker, group).equals(ends));

        // when a second member joins
        PipelineHandle<Long> second = Pipeline.from(source)
                .pipelineName(topic)
                .correlationId("member-b")
                .to(Sink.forEach(r -> processed.incrementAndGet()))
                .start();
        await("the second member is assigned partitions")
                .atMost(PATIENCE)
                .until(() -> reported.stream().anyMatch(r -> r.correlationId().equals("member-b")));
        first.stop(Duration.ofSeconds(10));
        second.stop(Duration.ofSeconds(10));
        first.await(PATIENCE);
        second.await(PATIENCE);

        // then the first member gave up exactly the partitions the second got, where it had committed them
        List<KafkaRebalance> a = of("member-a", reported);
        List<KafkaRebalance> b = of("member-b", reported);
        KafkaRebalance revoked = a.get(1);
        KafkaRebalance assigned = b.getFirst();
        assertThat(revoked.kind()).isEqualTo(KafkaRebalance.Kind.REVOKED);
        assertThat(assigned.kind()).isEqualTo(KafkaRebalance.Kind.ASSIGNED);
        assertThat(revoked.partitions()).hasSize(2).isEqualTo(assigned.partitions());
        for (TopicPartition tp : revoked.partitions()) {
            assertThat(revoked.offsets()).containsEntry(tp, ends.get(tp));
            assertThat(assigned.offsets()).containsEntry(tp, ends.get(tp));
        }
        assertThat(revoked.droppedRecords()).isZero();
        assertThat(revoked.unfinishedRecords()).isZero();
        assertThat(List.of(revoked, assigned)).allSatisfy(r -> {
            assertThat(r.groupId()).isEqualTo(group);
            assertThat(r.generationId()).isPositive();
        });
        assertThat(revoked.memberId()).isNotBlank().isNotEqualTo(assigned.memberId());
        assertThat(a.getFirst().memberId()).isEqualTo(revoked.memberId());
        // and each member, stopping, reports the revocation of what it still held
        assertThat(a.getLast().kind()).isEqualTo(KafkaRebalance.Kind.REVOKED);
        assertThat(a.getLast().partitions())
                .hasSize(2)
                .doesNotContainAnyElementsOf(revoked.partitions())
                .isSubsetOf(ends.keySet());
        assertThat(b.getLast().kind()).isEqualTo(KafkaRebalance.Kind.REVOKED);
        assertThat(processed).hasValue(400);
    }

    /**
     * A member that stops leaves the group: its partitions move at once, not after the session timeout, and it reports
     * them revoked at the offsets it committed.
     */
    @ParameterizedTest
    @ValueSource(strings = {"consumer", "classic"})
    void aStoppingMemberLeavesAtOnceAndReportsItsPartitionsRevokedAtTheirCommittedOffsets(String protocol)
            throws Exception {
        // given two members of a group sharing a topic they have read to the end
        String topic = Topics.unique("leave-" + protocol);
        broker.createTopic(topic, 4);
        Topics.write(broker, topic, Topics.numbers(400), 40);
        Map<TopicPartition, Long> ends = endOffsets(topic, 4);
        Queue<KafkaRebalance> reported = new ConcurrentLinkedQueue<>();
        AtomicLong processed = new AtomicLong();
        KafkaSource.Builder<String, String> builder = KafkaSource.builder(
                        new StringDeserializer(), new StringDeserializer())
                .bootstrapServers(broker.bootstrapServers())
                .groupId(topic + "-group")
                .topics(topic)
                .property(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol)
                .onRebalance(reported::add);
        // a minute's session timeout: partitions that move sooner moved because the member left, not because it died
        if (protocol.equals("classic")) {
            builder.property(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "60000");
        } else { // the consumer protocol's is the group's, set on the broker
            broker.admin()
                    .incrementalAlterConfigs(Map.of(
                            new ConfigResource(ConfigResource.Type.GROUP, topic + "-group"),
                            List.of(new AlterConfigOp(
                                    new ConfigEntry("consumer.session.timeout.ms", "60000"),
                                    AlterConfigOp.OpType.SET))))
                    .all()
                    .get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        }
        KafkaSource<String, String> source = builder.build();
        PipelineHandle<Long> first = Pipeline.from(source)
                .correlationId("member-a")
                .to(Sink.forEach(r -> processed.incrementAndGet()))
                .start();
        await().atMost(PATIENCE).until(() -> processed.get() == 400);
        await().atMost(PATIENCE)
                .until(() -> Topics.committed(broker, topic + "-group").equals(ends));
        PipelineHandle<Long> second = Pipeline.from(source)
                .correlationId("member-b")
                .to(Sink.forEach(r -> processed.incrementAndGet()))
                .start();
        await("the members share the partitions")
                .atMost(PATIENCE)
                .until(() -> held("member-a", reported).size() == 2
                        && held("member-b", reported).size() == 2);
        Set<TopicPartition> firstHeld = held("member-a", reported);

        // when the first member stops
        long stopping = System.nanoTime();
        first.stop(Duration.ofSeconds(30));
        first.await(PATIENCE);
        await("the second member holds every partition")
                .atMost(PATIENCE)
                .until(() -> held("member-b", reported).size() == 4);
        Duration movedAfter = Duration.ofNanos(System.nanoTime() - stopping);
        second.stop(Duration.ofSeconds(30));
        second.await(PATIENCE);

        // then its partitions moved well within the session timeout, and it reported them revoked where it committed
        assertThat(movedAfter).isLessThan(Duration.ofSeconds(30));
        KafkaRebalance last = of("member-a", reported).getLast();
        assertThat(last.kind()).isEqualTo(KafkaRebalance.Kind.REVOKED);
        assertThat(last.partitions()).containsExactlyInAnyOrderElementsOf(firstHeld);
        for (TopicPartition tp : firstHeld) {
            assertThat(last.offsets()).containsEntry(tp, ends.get(tp));
        }
        assertThat(last.unfinishedRecords()).isZero();
        assertThat(reported).noneMatch(r -> r.kind() == KafkaRebalance.Kind.LOST);
        assertThat(processed).hasValue(400);
    }

    /** The partitions {@code member} holds by what it reported: those assigned minus those revoked or lost. */
    private static Set<TopicPartition> held(String member, Queue<KafkaRebalance> reported) {
        Set<TopicPartition> held = new HashSet<>();
        for (KafkaRebalance r : of(member, reported)) {
            if (r.kind() == KafkaRebalance.Kind.ASSIGNED) {
                held.addAll(r.partitions());
            } else {
                r.partitions().forEach(held::remove);
            }
        }
        return held;
    }

    @Test
    void aListenerThatThrowsEvenAnErrorDoesNotFailTheRunAndRunsInTheRunsContext() throws Exception {
        // given a listener that records the MDC it is called with, then throws an Error (an assertion of its own)
        String topic = Topics.unique("rebalance-throws");
        broker.createTopic(topic, 1);
        Topics.write(broker, topic, Topics.numbers(10), 1);
        AtomicLong processed = new AtomicLong();
        Queue<String> seen = new ConcurrentLinkedQueue<>();
        KafkaSource<String, String> source = KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                .bootstrapServers(broker.bootstrapServers())
                .groupId(topic + "-group")
                .topics(topic)
                .onRebalance(r -> {
                    seen.add(MDC.get(StageContext.MDC_CORRELATION_ID) + "/" + MDC.get(StageContext.MDC_PIPELINE) + "/"
                            + MDC.get("tenant"));
                    throw new AssertionError("listener broke");
                })
                .build();

        // when a run of it starts from a caller with a context of its own
        MDC.put("tenant", "acme");
        PipelineHandle<Long> run;
        try {
            run = Pipeline.from(source)
                    .pipelineName(topic)
                    .correlationId("rebalance-run")
                    .to(Sink.forEach(r -> processed.incrementAndGet()))
                    .start();
        } finally {
            MDC.remove("tenant");
        }
        await().atMost(PATIENCE).until(() -> processed.get() == 10);
        run.stop(Duration.ofSeconds(10));

        // then the run read everything and ended as stopped runs do, and the listener ran in the run's context
        assertThat(run.await(PATIENCE).itemCount()).isEqualTo(10);
        assertThat(seen).isNotEmpty().allMatch(s -> s.equals("rebalance-run/" + topic + "/acme"));
    }

    @Test
    void oneRunsLagGaugeOutlivesTheRemovalOfAnEarlierRunsForTheSamePartition() {
        // given two runs of one pipeline in one JVM that own the same partition, one after the other
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        KafkaMeters first = KafkaMeters.of(Optional.of(registry), "jobs");
        KafkaMeters second = KafkaMeters.of(Optional.of(registry), "jobs");
        TopicPartition partition = new TopicPartition("orders", 0);
        PartitionState before = new PartitionState(partition, 0);
        PartitionState after = new PartitionState(partition, 0);
        first.assigned(before);
        second.assigned(after);

        // when the first run lets go of the partition after the second has it
        first.unassigned(before);

        // then the second run's gauge is still registered, and goes when the second lets go
        assertThat(registry.find(KafkaMeters.LAG).tag("partition", "0").gauge()).isNotNull();
        second.unassigned(after);
        assertThat(registry.find(KafkaMeters.LAG).gauge()).isNull();
    }

    @Test
    void aRebalanceMustNameAPartitionAndOnlyOffsetsOfItsPartitions() {
        TopicPartition p0 = new TopicPartition("t", 0);
        TopicPartition p1 = new TopicPartition("t", 1);
        assertThatThrownBy(() -> rebalance(List.of(), Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("partitions must name at least one partition");
        assertThatThrownBy(() -> rebalance(List.of(p0), Map.of(p1, 3L)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("offsets must name only partitions of [t-0]");
        KafkaRebalance sorted = rebalance(List.of(p1, p0), Map.of(p1, 3L, p0, 2L));
        assertThat(sorted.partitions()).containsExactly(p0, p1);
        assertThat(sorted.offsets().keySet()).containsExactly(p0, p1);
    }

    private static KafkaRebalance rebalance(List<TopicPartition> partitions, Map<TopicPartition, Long> offsets) {
        return new KafkaRebalance(
                KafkaRebalance.Kind.REVOKED, "p", "c", "g", "m", 1, partitions, offsets, 0, 0, Instant.EPOCH);
    }

    private static List<KafkaRebalance> of(String member, Queue<KafkaRebalance> reported) {
        return reported.stream().filter(r -> r.correlationId().equals(member)).toList();
    }

    private Map<TopicPartition, Long> endOffsets(String topic, int partitions) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        Map<TopicPartition, Long> ends =
                new java.util.TreeMap<>(java.util.Comparator.comparingInt(TopicPartition::partition));
        broker.admin()
                .listOffsets(latest)
                .all()
                .get(PATIENCE.toSeconds(), TimeUnit.SECONDS)
                .forEach((tp, info) -> ends.put(tp, info.offset()));
        return ends;
    }
}
