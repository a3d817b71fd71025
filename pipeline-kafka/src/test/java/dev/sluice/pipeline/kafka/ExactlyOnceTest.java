package dev.sluice.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.Source;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Consume, process, produce with transactions: the output topic, read committed, holds each input record once. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ExactlyOnceTest {

    private static final Map<String, Object> READ_COMMITTED =
            Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");

    private final KafkaBroker broker = KafkaBroker.shared();

    @Test
    void outputAndOffsetsCommitTogether() throws Exception {
        // given
        String topic = Topics.unique("eos-in");
        String out = topic + ".out";
        String group = topic + "-group";
        broker.createTopic(topic, 4);
        broker.createTopic(out, 4);
        Topics.write(broker, topic, Topics.numbers(1_000), 20);

        // when
        try (KafkaSink<String, String> sink = KafkaSink.builder(new StringSerializer(), new StringSerializer())
                .bootstrapServers(broker.bootstrapServers())
                .transactionalId(topic + "-tx")
                .build()) {
            KafkaSource<String, String> source = KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                    .bootstrapServers(broker.bootstrapServers())
                    .groupId(group)
                    .topics(topic)
                    .commitInterval(Duration.ofMillis(100))
                    .exactlyOnce(sink)
                    .build();
            PipelineHandle<Long> run = Pipeline.from(source)
                    .map(r -> new ProducerRecord<>(out, r.key(), "out-" + r.value()))
                    .to(sink.sink())
                    .start();
            await().atMost(Topics.PATIENCE).until(() -> committedSum(group) == 1_000);
            run.stop(Duration.ofSeconds(10));
            run.await(Topics.PATIENCE);
        }

        // then
        List<String> values = values(Topics.readAll(broker, out, 4, 1_000, READ_COMMITTED));
        assertThat(values).hasSize(1_000).doesNotHaveDuplicates();
    }

    @Test
    void aMemberKilledMidRunLeavesEachRecordOnceInTheOutput(@TempDir Path dir) throws Exception {
        // given
        String topic = Topics.unique("eos-kill");
        String out = topic + ".out";
        String group = topic + "-group";
        broker.createTopic(topic, 12);
        broker.createTopic(out, 12);
        int count = 3_000;
        Topics.write(broker, topic, Topics.numbers(count), 60);
        List<ChildJvm> members = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                members.add(ChildJvm.builder(GroupMemberMain.class)
                        .jvmArgs("-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
                        .args(
                                broker.bootstrapServers(),
                                topic,
                                group,
                                dir.resolve("m" + i).toString(),
                                "consumer",
                                "10",
                                out,
                                topic + "-tx-" + i)
                        .output(dir.resolve("m" + i + ".log"))
                        .start());
            }

            // when one is killed once output is flowing
            await().atMost(Topics.PATIENCE).until(() -> committedSum(group) >= count / 4);
            members.get(1).kill();

            // then the others finish the topic
            await().atMost(Topics.PATIENCE).until(() -> committedSum(group) == count);
        } finally {
            for (ChildJvm member : members) {
                member.stop(Duration.ofSeconds(20));
            }
        }
        List<String> values = values(Topics.readAll(broker, out, 12, count, READ_COMMITTED));
        assertThat(values).hasSize(count).doesNotHaveDuplicates();
    }

    @Test
    void aRunThatAbortedATransactionCommitsNothingMoreAndFailsSayingWhy() throws Exception {
        // given a member of a group (consumer protocol) holding both partitions of a topic, whose map holds record 5
        // of each partition: records 0 to 4 of each written in the open transaction, their offsets committable
        String topic = Topics.unique("eos-revoke");
        String out = topic + ".out";
        String group = topic + "-group";
        broker.createTopic(topic, 2);
        broker.createTopic(out, 2);
        Topics.writeTo(broker, topic, 0, 10);
        Topics.writeTo(broker, topic, 1, 10);
        CountDownLatch release = new CountDownLatch(1);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        PipelineHandle<Long> run;
        try (KafkaSink<String, String> sink = transactionalSink(topic + "-tx")) {
            KafkaSource<String, String> source = KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                    .bootstrapServers(broker.bootstrapServers())
                    .groupId(group)
                    .topics(topic)
                    .property(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer")
                    .commitInterval(Duration.ofMinutes(1))
                    .drainTimeout(Duration.ofSeconds(1))
                    .exactlyOnce(sink)
                    .build();
            run = Pipeline.from(source)
                    .pipelineName(topic)
                    .meterRegistry(registry)
                    .mapConcurrentByKey(2, ConsumerRecord::partition, r -> {
                        if (r.offset() == 5) {
                            release.await();
                        }
                        return new ProducerRecord<>(out, r.key(), r.partition() + ":" + r.offset());
                    })
                    .to(sink.sink())
                    .start();
            Topics.readAll(broker, out, 2, 10, Map.of());

            // when a second member joins: the first is revoked one partition, whose held record does not finish
            // within the drain timeout, so the run fails; its consumer's close then revokes the other, whose record is
            // let go while that revocation would drain it
            try (IdleMember second = new IdleMember(topic, group)) {
                await().atMost(Topics.PATIENCE)
                        .pollInterval(Duration.ofMillis(10))
                        .until(() -> revocations(registry) >= 2);
                release.countDown();

                // then the run fails saying why, and what it committed matches what it wrote
                assertThatThrownBy(() -> run.await(Topics.PATIENCE))
                        .isInstanceOf(PipelineFailedException.class)
                        .cause()
                        .isInstanceOf(KafkaSourceException.class)
                        .hasMessageContaining("did not finish within the drain timeout");
            }
        }
        assertOutputMatchesCommittedOffsets(out, 2, group);
    }

    @Test
    void partitionsLostWithOutputNotCommittedFailTheRunAndAbortTheTransaction() throws Exception {
        // given a member whose records 0 to 9 are written in the open transaction, not committed
        String topic = Topics.unique("eos-lost");
        String out = topic + ".out";
        String group = topic + "-group";
        broker.createTopic(topic, 1);
        broker.createTopic(out, 1);
        Topics.writeTo(broker, topic, 0, 10);
        PipelineHandle<Long> run;
        try (KafkaSink<String, String> sink = transactionalSink(topic + "-tx")) {
            KafkaSource<String, String> source = KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                    .bootstrapServers(broker.bootstrapServers())
                    .groupId(group)
                    .topics(topic)
                    .property(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic")
                    .property(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 2_000)
                    .property(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, HoldingInterceptor.class.getName())
                    .commitInterval(Duration.ofMinutes(1))
                    .drainTimeout(Duration.ofMillis(500))
                    .exactlyOnce(sink)
                    .build();
            run = Pipeline.from(source)
                    .map(r -> new ProducerRecord<>(out, r.key(), r.partition() + ":" + r.offset()))
                    .to(sink.sink())
                    .start();
            Topics.readAll(broker, out, 1, 10, Map.of());

            // when its poll is held past max.poll.interval.ms: it leaves the group, and loses its partition
            try (HoldingInterceptor.Hold hold = HoldingInterceptor.hold(group)) {
                Topics.writeTo(broker, topic, 0, 5);
                await().atMost(Topics.PATIENCE).until(hold::holding);
                await().atMost(Topics.PATIENCE)
                        .until(() -> broker.admin()
                                .describeConsumerGroups(List.of(group))
                                .all()
                                .get()
                                .get(group)
                                .members()
                                .isEmpty());
            }

            // then
            assertThatThrownBy(() -> run.await(Duration.ofSeconds(30)))
                    .isInstanceOf(PipelineFailedException.class)
                    .cause()
                    .isInstanceOf(KafkaSourceException.class)
                    .hasMessageContaining("were lost");
        }
        assertOutputMatchesCommittedOffsets(out, 1, group);
    }

    @Test
    void aStopWhileTheSourceWaitsOnAFullPipelineCommitsWhatIsInFlightWithItsOutput() throws Exception {
        // given a slow map behind a small buffer: the source waits to emit
        String topic = Topics.unique("eos-stop");
        String out = topic + ".out";
        String group = topic + "-group";
        broker.createTopic(topic, 1);
        broker.createTopic(out, 1);
        Topics.writeTo(broker, topic, 0, 300);
        AtomicLong mapped = new AtomicLong();
        try (KafkaSink<String, String> sink = transactionalSink(topic + "-tx")) {
            KafkaSource<String, String> source = KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                    .bootstrapServers(broker.bootstrapServers())
                    .groupId(group)
                    .topics(topic)
                    .commitInterval(Duration.ofMinutes(1))
                    .exactlyOnce(sink)
                    .build();
            PipelineHandle<Long> run = Pipeline.from(source)
                    .buffer(8)
                    .map(r -> {
                        Thread.sleep(20);
                        mapped.incrementAndGet();
                        return new ProducerRecord<>(out, r.key(), r.partition() + ":" + r.offset());
                    })
                    .to(sink.sink())
                    .start();
            await().atMost(Topics.PATIENCE).until(() -> mapped.get() >= 10);

            // when
            run.stop(Duration.ofSeconds(60));
            run.await(Topics.PATIENCE);
        }

        // then the records in flight finished, and were committed with their output
        assertThat(mapped.get()).isLessThan(300);
        assertThat(Topics.committed(broker, group).values()).containsExactly(mapped.get());
        assertOutputMatchesCommittedOffsets(out, 1, group);
    }

    @Test
    void outputTheSinkWritesWithNoExactlyOnceRunAttachedIsNeverCommitted() throws Exception {
        // given a transactional sink that wrote a record while no exactly-once run was attached to it
        String topic = Topics.unique("eos-stray");
        String out = topic + ".out";
        String group = topic + "-group";
        broker.createTopic(topic, 1);
        broker.createTopic(out, 1);
        Topics.write(broker, topic, Topics.numbers(10), 1);
        try (KafkaSink<String, String> sink = transactionalSink(topic + "-tx")) {
            Pipeline.from(Source.of("stray"))
                    .map(v -> new ProducerRecord<>(out, v, v))
                    .to(sink.sink())
                    .run(Topics.PATIENCE);

            // when an exactly-once run then reads the topic and commits
            KafkaSource<String, String> source = KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                    .bootstrapServers(broker.bootstrapServers())
                    .groupId(group)
                    .topics(topic)
                    .commitInterval(Duration.ofMillis(100))
                    .exactlyOnce(sink)
                    .build();
            PipelineHandle<Long> run = Pipeline.from(source)
                    .map(r -> new ProducerRecord<>(out, r.key(), r.value()))
                    .to(sink.sink())
                    .start();
            await().atMost(Topics.PATIENCE).until(() -> committedSum(group) == 10);
            run.stop(Duration.ofSeconds(10));
            run.await(Topics.PATIENCE);
        }

        // then the output holds the run's records only
        assertThat(values(Topics.readAll(broker, out, 1, 10, READ_COMMITTED)))
                .containsExactlyInAnyOrderElementsOf(Topics.numbers(10));
    }

    /**
     * The output, read committed, holds exactly the records below the group's committed offsets, each once: nothing
     * committed was lost, and nothing written was committed without its offset. Output values are
     * {@code partition:offset} of their input record.
     */
    private void assertOutputMatchesCommittedOffsets(String out, int partitions, String group) throws Exception {
        List<String> expected = new ArrayList<>();
        Topics.committed(broker, group).forEach((tp, offset) -> {
            for (long o = 0; o < offset; o++) {
                expected.add(tp.partition() + ":" + o);
            }
        });
        assertThat(values(Topics.readAll(broker, out, partitions, expected.size(), READ_COMMITTED)))
                .containsExactlyInAnyOrderElementsOf(expected);
    }

    private KafkaSink<String, String> transactionalSink(String transactionalId) {
        return KafkaSink.builder(new StringSerializer(), new StringSerializer())
                .bootstrapServers(broker.bootstrapServers())
                .transactionalId(transactionalId)
                .build();
    }

    private static double revocations(SimpleMeterRegistry registry) {
        Counter revoked =
                registry.find(KafkaMeters.REBALANCES).tag("kind", "revoked").counter();
        return revoked == null ? 0 : revoked.count();
    }

    /** A member of a group (consumer protocol) that only polls: it takes partitions, and never commits. */
    private final class IdleMember implements AutoCloseable {
        private final AtomicBoolean closing = new AtomicBoolean();
        private final Thread thread;

        IdleMember(String topic, String group) {
            Map<String, Object> config = Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    broker.bootstrapServers(),
                    ConsumerConfig.GROUP_ID_CONFIG,
                    group,
                    ConsumerConfig.GROUP_PROTOCOL_CONFIG,
                    "consumer",
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                    false);
            thread = Thread.ofPlatform().name("idle-member-" + group).start(() -> {
                try (KafkaConsumer<byte[], byte[]> consumer =
                        new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                    consumer.subscribe(List.of(topic));
                    while (!closing.get()) {
                        consumer.poll(Duration.ofMillis(100));
                    }
                }
            });
        }

        @Override
        public void close() throws InterruptedException {
            closing.set(true);
            thread.join(Topics.PATIENCE.toMillis());
        }
    }

    private long committedSum(String group) throws Exception {
        return Topics.committed(broker, group).values().stream()
                .mapToLong(Long::longValue)
                .sum();
    }

    private static List<String> values(List<ConsumerRecord<byte[], byte[]>> records) {
        List<String> values = new ArrayList<>();
        records.forEach(r -> values.add(new String(r.value(), StandardCharsets.UTF_8)));
        return values;
    }
}
